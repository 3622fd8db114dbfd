package transcript

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Key is what a replay matches a request by: method, path, the query normalised (parameters
// and repeated values in any order) and, for a request with a body, the body (JSON
// normalised). Token endpoint requests match by method and path alone: their form is redacted.
type Key struct {
	Method, Path, Query, Body string
}

func (k Key) String() string {
	s := k.Method + " " + k.Path
	if k.Query != "" {
		s += "?" + k.Query
	}
	if k.Body != "" {
		s += " body " + k.Body
	}
	return s
}

// NormalQuery returns raw with its parameters, and the values of each, sorted.
func NormalQuery(raw string) string {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	for _, vs := range q {
		slices.Sort(vs)
	}
	return q.Encode()
}

// normalBody returns a JSON body compacted with its keys sorted, any other body as it is.
func normalBody(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) == nil {
		if out, err := json.Marshal(v); err == nil {
			return string(out)
		}
	}
	return string(b)
}

// KeyOf returns the key of a request.
func KeyOf(to, method, path, rawQuery string, body []byte) Key {
	if to == ToAuth {
		return Key{Method: method, Path: path}
	}
	return Key{Method: method, Path: path, Query: NormalQuery(rawQuery), Body: normalBody(body)}
}

// KeyOf returns the key of a recorded exchange.
func (x *Exchange) KeyOf() Key {
	b, _ := x.RequestBody.Bytes() // a body that does not decode matches as nothing
	return KeyOf(x.To, x.Method, x.Path, x.Query, b)
}

// Index serves a transcript's exchanges by key: the recorded answers to one key in recorded
// order, the last one again once they are used up (a token asked for once more, a page read
// again). It is safe for concurrent use.
type Index struct {
	mu     sync.Mutex
	byKey  map[Key][]*Exchange
	served map[Key]int
	keys   []Key
}

// NewIndex indexes t's exchanges that got an answer.
func NewIndex(t *Transcript) *Index {
	ix := &Index{byKey: map[Key][]*Exchange{}, served: map[Key]int{}}
	for i := range t.Exchanges {
		x := &t.Exchanges[i]
		if x.Status == 0 {
			continue // no answer came: nothing to serve
		}
		k := x.KeyOf()
		if _, ok := ix.byKey[k]; !ok {
			ix.keys = append(ix.keys, k)
		}
		ix.byKey[k] = append(ix.byKey[k], x)
	}
	return ix
}

// Next returns the next recorded answer to k, or nil when k was never recorded.
func (ix *Index) Next(k Key) *Exchange {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	xs := ix.byKey[k]
	if len(xs) == 0 {
		return nil
	}
	i := min(ix.served[k], len(xs)-1)
	ix.served[k]++
	return xs[i]
}

// Unserved returns the recorded requests the replay was not asked for (as often as recorded).
func (ix *Index) Unserved() []string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var out []string
	for _, k := range ix.keys {
		if n := len(ix.byKey[k]) - ix.served[k]; n > 0 {
			out = append(out, fmt.Sprintf("%s (%d of %d)", k, n, len(ix.byKey[k])))
		}
	}
	return out
}

// Nearest describes the recorded request closest to k (same method and path, fewest differing
// query parameters; else the same method with the longest common path) and how it differs;
// "" when the transcript has none of k's method.
func (ix *Index) Nearest(k Key) string {
	best, bestScore := Key{}, -1
	for _, r := range ix.keys {
		if r.Method != k.Method {
			continue
		}
		score := commonPrefix(r.Path, k.Path)
		if r.Path == k.Path {
			score = 1 << 20
			score -= len(queryDiff(k.Query, r.Query))
			if r.Body != k.Body {
				score--
			}
		}
		if score > bestScore {
			best, bestScore = r, score
		}
	}
	if bestScore < 0 {
		return ""
	}
	s := best.String()
	if best.Path == k.Path {
		if d := queryDiff(k.Query, best.Query); len(d) > 0 {
			s += " (differs in " + strings.Join(d, ", ") + ")"
		} else if best.Body != k.Body {
			s += " (differs in the body)"
		}
	}
	return s
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// queryDiff names the parameters whose values differ between two queries: "offset=5000 (recorded 0)".
func queryDiff(asked, recorded string) []string {
	a, _ := url.ParseQuery(asked)
	r, _ := url.ParseQuery(recorded)
	var out []string
	for k := range a {
		if !slices.Equal(a[k], r[k]) {
			rv := "absent"
			if r.Has(k) {
				rv = strings.Join(r[k], ",")
			}
			out = append(out, fmt.Sprintf("%s=%s (recorded %s)", k, strings.Join(a[k], ","), rv))
		}
	}
	for k := range r {
		if !a.Has(k) {
			out = append(out, fmt.Sprintf("%s absent (recorded %s)", k, strings.Join(r[k], ",")))
		}
	}
	slices.Sort(out)
	return out
}
