package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// DefinitionsName is what the list of monitor definitions is called wherever it is given: the
// connector secret's field, the stack's context key, and the prefix of every problem's path.
const DefinitionsName = "extraMonitors"

// Definition is one analytics monitor given as data (docs/design.md, "Monitors given as data"):
// `calmctl collect --extra-monitors FILE`, the connector secret's extraMonitors field and the
// stack's extraMonitors context key take a JSON list of them.
type Definition struct {
	ID         string              `json:"id"`
	Title      string              `json:"title,omitempty"`
	Provider   string              `json:"provider"`
	Version    string              `json:"version,omitempty"`
	Scope      string              `json:"scope"`
	Dimensions []string            `json:"dimensions"`
	Measures   []DefinitionMeasure `json:"measures"`
	Filters    []Filter            `json:"filters,omitempty"`
}

// DefinitionMeasure is one measure of a Definition and its optional aggregation method.
type DefinitionMeasure struct {
	Name   string `json:"name"`
	Method string `json:"method,omitempty"`
}

var (
	idPattern    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)
	scopePattern = regexp.MustCompile(`^calm-api\.[a-z0-9.-]+\.read$`)
	namePattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,99}$`)
)

// IsDefinitionID reports whether id has the form of a monitor given as data (lower-case letters,
// digits and '-', starting with a letter, at most 40): a name that may be known only once the
// monitors given as data are read, as in a collect invocation that names one.
func IsDefinitionID(id string) bool {
	return idPattern.MatchString(id) && id != SettingAuto && id != SettingAll
}

// ParseDefinitions reads a JSON list of Definitions ("" or blank: none) and returns them as
// monitors of t's kind. Every problem is reported, each with its path
// (`extraMonitors[2].measures[0].method: "MEDIAN" is not one of AVG, MIN, MAX, SUM, PERCENT`);
// ids must differ from t's and from each other.
func (t Table) ParseDefinitions(data []byte) ([]Monitor, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, fmt.Errorf("%s: not a JSON list of monitor definitions: %w", DefinitionsName, err)
	}
	var errs []error
	var out []Monitor
	for i, raw := range raws {
		path := fmt.Sprintf("%s[%d]", DefinitionsName, i)
		var d Definition
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		ps := d.problems(path)
		if _, ok := t.Lookup(d.ID); ok && d.ID != "" {
			ps = append(ps, fmt.Sprintf("%s.id: %q is a built-in monitor; choose another id", path, d.ID))
		}
		if slices.ContainsFunc(out, func(m Monitor) bool { return m.ID == d.ID }) {
			ps = append(ps, fmt.Sprintf("%s.id: %q is defined twice", path, d.ID))
		}
		for _, p := range ps {
			errs = append(errs, errors.New(p))
		}
		if len(ps) == 0 {
			out = append(out, d.Monitor())
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// problems lists what is wrong with d, each prefixed with its path.
func (d Definition) problems(path string) []string {
	var ps []string
	bad := func(field, format string, args ...any) {
		ps = append(ps, fmt.Sprintf("%s.%s: %s", path, field, fmt.Sprintf(format, args...)))
	}
	switch {
	case d.ID == SettingAuto || d.ID == SettingAll:
		bad("id", "%q is a word of the monitors setting; choose another id", d.ID)
	case !idPattern.MatchString(d.ID):
		bad("id", "%q: want lower-case letters, digits and '-', starting with a letter, at most 40", d.ID)
	}
	if !namePattern.MatchString(d.Provider) {
		bad("provider", "%q: want the analytics provider's name, e.g. KPI_HISTORY_TOTALS", d.Provider)
	}
	if !scopePattern.MatchString(d.Scope) {
		bad("scope", "%q: want the calm-api scope the provider needs, e.g. calm-api.bm.read", d.Scope)
	}
	if len(d.Dimensions) == 0 {
		bad("dimensions", "empty: name at least one dimension (dimensions left out merge series)")
	}
	for i, dim := range d.Dimensions {
		if !namePattern.MatchString(dim) {
			bad(fmt.Sprintf("dimensions[%d]", i), "%q is not a dimension name", dim)
		}
	}
	if len(d.Measures) == 0 {
		bad("measures", `empty: name at least one measure, e.g. {"name":"kpiValue"}`)
	}
	for i, m := range d.Measures {
		if !namePattern.MatchString(m.Name) {
			bad(fmt.Sprintf("measures[%d].name", i), "%q is not a measure name", m.Name)
		}
		if m.Method != "" && !slices.Contains(Methods, m.Method) {
			bad(fmt.Sprintf("measures[%d].method", i), "%q is not one of %s", m.Method, strings.Join(Methods, ", "))
		}
	}
	for i, f := range d.Filters {
		if !namePattern.MatchString(f.Key) {
			bad(fmt.Sprintf("filters[%d].key", i), "%q is not a dimension name", f.Key)
		}
		if len(f.Values) == 0 {
			bad(fmt.Sprintf("filters[%d].values", i), "empty: a filter keeps the values it lists")
		}
	}
	return ps
}

// Monitor returns the monitor d defines. Its scope is taken as given: the user named it.
func (d Definition) Monitor() Monitor {
	m := Monitor{ID: d.ID, Title: d.Title, Scope: d.Scope, ScopeConfirmed: true, ScopeSource: "given with the monitor's definition",
		API: Analytics, DataProvider: d.Provider, Version: d.Version, Dimensions: slices.Clone(d.Dimensions),
		Filters: slices.Clone(d.Filters), Extra: true, Source: notInSAP + "given as data (" + DefinitionsName + ")"}
	if m.Title == "" {
		m.Title = d.ID
	}
	for _, ms := range d.Measures {
		m.Measures = append(m.Measures, ms.Name)
		if ms.Method != "" {
			if m.Methods == nil {
				m.Methods = map[string]string{}
			}
			m.Methods[ms.Name] = ms.Method
		}
	}
	return m.clone()
}

// WithDefinitions is t extended by the monitors of a JSON list of Definitions.
func (t Table) WithDefinitions(data []byte) (Table, error) {
	extra, err := t.ParseDefinitions(data)
	if err != nil {
		return Table{}, err
	}
	return t.With(extra...)
}
