package sim

import (
	"cmp"
	"hash/fnv"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Strict mode (Config.Strict) takes the other reading wherever SAP's material allows two
// (docs/cloud-alm-api.md): the collector must be exact against both.
//
//   - Metrics are paged by rows (one series at one time, every measure of it), at most
//     strictPageCap rows a page whatever limit asks for.
//   - calm-metrics requires dimensions and metrics; unknown measures are refused with 400.
//   - One metrics, status events or landscape request in strictErrorEvery answers 200 with an
//     error object the first time it is asked (strictErrorBody).
//   - Status events and landscape objects pages hold at most strictPageCap items, whatever
//     limit asks for (writePage).
//   - A series with a metricName (hm) is served as OTLP metrics named after that metricName,
//     one per measure, each with the measure as its description (nameByMetricName): the
//     measures of one series share the metric name.
//   - The logs API requires provider and answers at most 60 minutes a query.
//
// Formats are not part of strict mode (NoBinary and NoGzip are): the suites' strict tenant
// (Readings) also refuses protobuf-binary and does not compress, so that the JSON fallback is
// exercised under the strict reading while the default tenant serves binary with gzip.
const (
	// strictPageCap is the most rows a strict metrics page (items of another list) holds,
	// whatever limit asks for.
	strictPageCap = 25
	// strictErrorEvery: one strict request in strictErrorEvery (by its query) answers 200 with
	// an error object the first time it is asked.
	strictErrorEvery = 5
	// strictLogsSpan is the longest logs or traces query a strict simulator answers (rawQuery).
	strictLogsSpan = time.Hour
)

// strictMetrics refuses what a strict tenant refuses and, now and then, answers 200 with an
// error body. It reports whether it answered.
func (s *Server) strictMetrics(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	for _, name := range []string{"dimensions", "metrics"} {
		if q.Get(name) == "" {
			missingParam(name).write(w)
			return true
		}
	}
	return s.strictErrorBody(w, r)
}

// strictErrorBody answers one request in strictErrorEvery (by its path and query) with 200 and
// an error object the first time it is asked; asked again, it is answered: a client that
// retries like a 5xx loses nothing. It reports whether it answered.
func (s *Server) strictErrorBody(w http.ResponseWriter, r *http.Request) bool {
	key := r.URL.Path + "?" + r.URL.RawQuery
	s.mu.Lock()
	if s.strictSeen == nil {
		s.strictSeen = map[string]bool{}
	}
	first := !s.strictSeen[key]
	s.strictSeen[key] = true
	s.mu.Unlock()
	if first && fnv32(r.URL.RawQuery)%strictErrorEvery == 0 {
		writeJSON(w, http.StatusOK, map[string]string{"error": "Service Unavailable", "message": "the data service is busy; try again"})
		return true
	}
	return false
}

// writePage answers the page of a limit/offset list (status events, landscape objects) that r
// asks for, with its x-total-count, applying the paging faults. A strict simulator first
// answers with an error body now and then (strictErrorBody), and caps the page at
// strictPageCap items whatever limit asks for.
func writePage[T any](s *Server, w http.ResponseWriter, r *http.Request, items []T) {
	pg, bad := parsePage(r)
	if bad != nil {
		bad.write(w)
		return
	}
	if s.cfg.Strict {
		if s.strictErrorBody(w, r) {
			return
		}
		pg.limit = min(cmp.Or(pg.limit, strictPageCap), strictPageCap)
	}
	page, total := pageOf(s, items, pg, tokenFrom(r.Context()).faults)
	setTotal(w, total)
	writeJSON(w, http.StatusOK, page)
}

// rowsPage pages pts by rows (one row = one series at one time, every measure of it), at most
// strictPageCap rows a page, applying the paging faults as pageIndexes does: it returns the
// page's points and the x-total-count to report (in rows).
func (s *Server) rowsPage(pts []Point, p pageParams, f Faults) ([]Point, int) {
	rows := map[string]int{}
	idx := make([]int, len(pts))
	for i, pt := range pts {
		m := pt.Merged()
		keys := slices.Sorted(maps.Keys(m))
		var b strings.Builder
		for _, k := range keys {
			b.WriteString(k + "=" + m[k] + "\x00")
		}
		k := b.String() + pt.Time.UTC().Format(time.RFC3339Nano)
		r, ok := rows[k]
		if !ok {
			r = len(rows)
			rows[k] = r
		}
		idx[i] = r
	}
	p.limit = min(cmp.Or(p.limit, strictPageCap), strictPageCap)
	picked, total := s.pageIndexes(p, len(rows), f)
	on := make(map[int]bool, len(picked))
	for _, r := range picked {
		on[r] = true
	}
	var page []Point
	for i, pt := range pts {
		if on[idx[i]] {
			page = append(page, pt)
		}
	}
	return page, total
}

// nameByMetricName names every point of a series with a metricName attribute after it, as a
// tenant that names OTLP metrics by metricName would; the measure stays in Point.Measure.
func nameByMetricName(pts []Point) {
	for i := range pts {
		if n := pts[i].Attributes["metricName"]; n != "" {
			pts[i].Metric = n
		} else if n := pts[i].Resource["metricName"]; n != "" {
			pts[i].Metric = n
		}
	}
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}
