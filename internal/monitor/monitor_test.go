package monitor

import (
	"bufio"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
)

// request is one line of testdata/postman_requests.txt: the request's name and query.
type request struct {
	name  string
	query url.Values
}

func loadRequests(t *testing.T) map[string]request {
	t.Helper()
	f, err := os.Open("testdata/postman_requests.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]request{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, ok := strings.Cut(line, "\t")
		_, raw, ok2 := strings.Cut(rest, "?")
		if !ok2 {
			_, raw, ok2 = strings.Cut(rest, "body ")
		}
		if !ok || !ok2 {
			t.Fatalf("fixture line %q: want <name> TAB <method> <url> or <name> TAB body <query>", line)
		}
		q, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("fixture line %q: %v", line, err)
		}
		out[name] = request{name: name, query: q}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func measures(q url.Values) []string {
	var out []string
	for _, m := range strings.Split(q.Get("metrics"), ",") {
		out = append(out, strings.TrimPrefix(m, "measure:"))
	}
	return out
}

// TestNamesAreSAPs holds every monitor whose Source is a Postman request against that request:
// the provider, the dimensions and the measures exactly as SAP spells and orders them.
func TestNamesAreSAPs(t *testing.T) {
	reqs := loadRequests(t)
	for _, m := range All() {
		name, ok := strings.CutPrefix(m.Source, postman)
		if !ok {
			if !strings.HasPrefix(m.Source, notInSAP) && m.Source != sapLogs && m.Source != sapTraces {
				t.Errorf("%s: Source %q names neither a Postman request nor says the names come from elsewhere", m.ID, m.Source)
			}
			continue
		}
		r, ok := reqs[name]
		if !ok {
			t.Errorf("%s: Source names request %q, which is not in the fixture", m.ID, name)
			continue
		}
		q := r.query
		switch {
		case m.API == Analytics:
			// SAP's CSA request spells the format "time_Series".
			if q.Get("provider") != m.DataProvider || !strings.EqualFold(q.Get("format"), "time_series") {
				t.Errorf("%s: DataProvider %q; SAP's request %q asks provider=%q in format %q (want time_series)",
					m.ID, m.DataProvider, name, q.Get("provider"), q.Get("format"))
			}
		case q.Get("provider") == "EVENTS":
			// the analytics provider whose data the iep raw-data provider serves
		case q.Get("provider") != m.ID:
			t.Errorf("%s: SAP's request %q asks provider=%q", m.ID, name, q.Get("provider"))
		}
		if got, want := m.Dimensions, strings.Split(q.Get("dimensions"), ","); !slices.Equal(got, want) {
			t.Errorf("%s: dimensions\n got %v\nwant %v (SAP's %q)", m.ID, got, want, name)
		}
		if got, want := m.Measures, measures(q); !slices.Equal(got, want) {
			t.Errorf("%s: measures\n got %v\nwant %v (SAP's %q)", m.ID, got, want, name)
		}
	}
}

// TestEverySAPProviderIsInTheTable: every raw-data metrics provider of SAP's collection is a
// monitor.
func TestEverySAPProviderIsInTheTable(t *testing.T) {
	for name, r := range loadRequests(t) {
		if !strings.HasPrefix(name, "Raw Data - Metrics/") {
			continue
		}
		if _, ok := Lookup(r.query.Get("provider")); !ok {
			t.Errorf("SAP's request %q asks provider %q, which the table lacks", name, r.query.Get("provider"))
		}
	}
}

func TestTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range All() {
		if seen[m.ID] {
			t.Errorf("%s: id twice", m.ID)
		}
		seen[m.ID] = true
		if m.Title == "" || !strings.HasPrefix(m.Scope, "calm-api.") || !strings.HasSuffix(m.Scope, ".read") {
			t.Errorf("%s: title %q, scope %q: want a title and a calm-api.….read scope", m.ID, m.Title, m.Scope)
		}
		switch m.API {
		case Metrics:
			if len(m.Dimensions) == 0 || len(m.Measures) == 0 {
				t.Errorf("%s: a metrics monitor needs dimensions and measures (calm-metrics wants both)", m.ID)
			}
			if !slices.Contains(m.Dimensions, "serviceId") && !slices.Contains(m.Dimensions, "serviceID") &&
				!slices.Contains(m.Dimensions, "businessServiceId") && !slices.Contains(m.Dimensions, "scenarioId") {
				t.Errorf("%s: no service or scenario id among the dimensions: series of services would merge", m.ID)
			}
		case Logs, Traces:
			if m.LogsProvider == "" || m.Provider == "" {
				t.Errorf("%s: a %s monitor needs a provider and a discovery provider", m.ID, m.API)
			}
		case Analytics:
			if m.DataProvider == "" || len(m.Dimensions) == 0 || len(m.Measures) == 0 {
				t.Errorf("%s: an analytics monitor needs a data provider, dimensions and measures", m.ID)
			}
		case Events:
		default:
			t.Errorf("%s: unknown API %q", m.ID, m.API)
		}
		for _, c := range m.Counts {
			if !slices.Contains(m.Measures, c) {
				t.Errorf("%s: count %q is not one of its measures", m.ID, c)
			}
		}
		if m.MaxServices > 0 && m.Provider == "" {
			t.Errorf("%s: a service limit needs a discovery provider", m.ID)
		}
	}
}

func TestCopiesAreCopies(t *testing.T) {
	m, _ := Lookup("hm")
	m.Measures[0] = "changed"
	all := All()
	all[0].Dimensions[0] = "changed"
	again, _ := Lookup("hm")
	if again.Measures[0] == "changed" || again.Dimensions[0] == "changed" {
		t.Error("changing a returned monitor changed the table")
	}
}

func TestDefaultsAreTheConfirmedScopes(t *testing.T) {
	for _, id := range Defaults() {
		if m, _ := Lookup(id); !m.ScopeConfirmed {
			t.Errorf("default %s has an unconfirmed scope", id)
		}
	}
	// sum and traces are the monitors whose scopes SAP's material, as read, does not list.
	if got, want := Defaults(), slices.DeleteFunc(IDs(), func(id string) bool { return id == "sum" || id == "traces" }); !slices.Equal(got, want) {
		t.Errorf("Defaults = %v, want every monitor but sum and traces (%v)", got, want)
	}
}

func TestParse(t *testing.T) {
	got, err := Parse("")
	if err != nil || !slices.Equal(got, Defaults()) {
		t.Errorf(`Parse("") = %v, %v; want the defaults`, got, err)
	}
	got, err = Parse(" hm, status ,hm")
	if err != nil || !slices.Equal(got, []string{"hm", "status"}) {
		t.Errorf("Parse = %v, %v; want [hm status]", got, err)
	}
	if _, err := Parse("hm,nope,bad"); err == nil || !strings.Contains(err.Error(), "unknown monitor nope, bad") {
		t.Errorf("Parse(unknown) = %v; want both unknown ids named", err)
	}
}

func TestIsCountName(t *testing.T) {
	for name, want := range map[string]bool{
		"jam.executions": true, "measure:executions": true, "Count": true, "cpi/count": true,
		"iep.eventSituations": true, "iep.eventsituations": true, "hm.value": false, "rum.users": false,
		"iep.totalDuration": false, "sum.available": false, "responseTime": false,
	} {
		if got := IsCountName(name); got != want {
			t.Errorf("IsCountName(%q) = %v, want %v", name, got, want)
		}
	}
}
