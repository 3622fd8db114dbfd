package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// problems collects one error per bad context key, each naming its key, so that every problem
// is reported at once.
type problems struct{ errs []error }

// fail records a problem with the context key key.
func (p *problems) fail(key, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("context %q: %s", key, fmt.Sprintf(format, args...)))
}

// parser converts context values, which are JSON-typed from cdk.json and
// strings from -c, collecting one error per bad key.
type parser struct {
	get func(string) any
	problems
}

func (p *parser) str(key, def string) string {
	switch v := p.get(key).(type) {
	case nil:
		return def
	case string:
		return strings.TrimSpace(v)
	default:
		p.fail(key, "want a string, got %v", v)
		return def
	}
}

// list accepts a JSON array, a string holding a JSON array, or a comma list.
func (p *parser) list(key string, def []string) []string {
	var out []string
	switch v := p.get(key).(type) {
	case nil:
		return def
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				p.fail(key, "want a list of strings, got element %v", e)
				return def
			}
			out = append(out, strings.TrimSpace(s))
		}
	case string:
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "[") {
			if err := json.Unmarshal([]byte(v), &out); err != nil {
				p.fail(key, "not a JSON list of strings: %v", err)
				return def
			}
			break
		}
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	default:
		p.fail(key, "want a list of strings, got %v", v)
		return def
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// boolean accepts true or false, as JSON or as a string.
func (p *parser) boolean(key string, def bool) bool {
	return scalar(p, key, def, "true or false", func(v any) (bool, bool) {
		b, ok := v.(bool)
		return b, ok
	}, strconv.ParseBool)
}

// integer accepts a whole number, as JSON or as a string.
func (p *parser) integer(key string, def int) int {
	return scalar(p, key, def, "a whole number", func(v any) (int, bool) {
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1e9 {
			return 0, false
		}
		return int(f), true
	}, strconv.Atoi)
}

// scalar reads one value of key: JSON-typed from cdk.json (fromJSON says whether it fits) or a
// string from -c (fromString parses it); want names what fits, for the error.
func scalar[T any](p *parser, key string, def T, want string, fromJSON func(any) (T, bool), fromString func(string) (T, error)) T {
	switch v := p.get(key).(type) {
	case nil:
		return def
	case string:
		got, err := fromString(strings.TrimSpace(v))
		if err != nil {
			p.fail(key, "want %s, got %q", want, v)
			return def
		}
		return got
	default:
		got, ok := fromJSON(v)
		if !ok {
			p.fail(key, "want %s, got %v", want, v)
			return def
		}
		return got
	}
}

// strMap accepts a JSON object of strings or a string holding one.
func (p *parser) strMap(key string) map[string]string {
	out := map[string]string{}
	switch v := p.get(key).(type) {
	case nil:
	case map[string]any:
		for k, e := range v {
			s, ok := e.(string)
			if !ok {
				p.fail(key, "%s: want a string, got %v", k, e)
				continue
			}
			out[k] = strings.TrimSpace(s)
		}
	case string:
		if strings.TrimSpace(v) == "" {
			break
		}
		if err := json.Unmarshal([]byte(v), &out); err != nil {
			p.fail(key, "not a JSON object of connector name to secret ARN: %v", err)
		}
	default:
		p.fail(key, "want an object of connector name to secret ARN, got %v", v)
	}
	return out
}
