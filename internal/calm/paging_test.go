package calm

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A server whose x-total-count grows with every page (and never runs dry) is stopped after
// ceil(first total/limit)+2 pages, not at the hard cap, with an error naming the growth.
func TestMetricsTotalGrowingEveryPageStopsEarly(t *testing.T) {
	tn := newTenant(t)
	const limit = 3
	n := metricsServer(t, tn, baseMetricsQuery(fmt.Sprint(limit)), func(offset int) ([]byte, int) {
		var dps []string
		for i := offset; i < offset+limit; i++ {
			dps = append(dps, fmt.Sprintf(`{"timeUnixNano":"%d","asDouble":%d}`, 1795687200000000000+int64(i)*1e9, i))
		}
		body := `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"value","gauge":{"dataPoints":[` + strings.Join(dps, ",") + `]}}]}]}]}`
		return []byte(body), 7 + offset + limit // always one page more than served so far
	})
	r := collectMetrics(tn.client(func(o *Options) { o.PageSize = limit }), MetricsQuery{Provider: "hm", From: winFrom, To: winTo})
	if !errors.Is(r.err, ErrTooManyPages) {
		t.Fatalf("err = %v, want ErrTooManyPages", r.err)
	}
	// first total 10 → ceil(10/3)+2 = 6 pages
	if got := n.Load(); got != 6 {
		t.Errorf("server saw %d requests, want 6 (ceil(10/3)+2), not the hard cap of %d", got, defaultMaxPages)
	}
	want := "metrics hm 20261125100000–20261125100500: page 7 at offset 18: x-total-count grew from 10 to 25 while paging (limit 3); stopped after ceil(10/3)+2 pages: too many pages (the server does not stop paging)"
	if r.err.Error() != want {
		t.Errorf("err =\n%v\nwant\n%s", r.err, want)
	}
}

// A total that shrinks after the first page must not end paging before the rows the first
// page counted: the pager follows the largest total and stops on a short page.
func TestMetricsTotalShrinkingDoesNotSkipRows(t *testing.T) {
	tn := newTenant(t)
	const limit, rows = 3, 8
	n := metricsServer(t, tn, baseMetricsQuery(fmt.Sprint(limit)), func(offset int) ([]byte, int) {
		var dps []string
		for i := offset; i < min(offset+limit, rows); i++ {
			dps = append(dps, fmt.Sprintf(`{"timeUnixNano":"%d","asDouble":%d}`, 1795687200000000000+int64(i)*1e9, i))
		}
		body := `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"value","gauge":{"dataPoints":[` + strings.Join(dps, ",") + `]}}]}]}]}`
		if offset > 0 {
			return []byte(body), rows - limit // one page fewer than the first page said
		}
		return []byte(body), rows
	})
	r := collectMetrics(tn.client(func(o *Options) { o.PageSize = limit }), MetricsQuery{Provider: "hm", From: winFrom, To: winTo})
	if r.err != nil || r.points != rows || n.Load() != 3 {
		t.Errorf("points %d in %d requests, err %v; want all %d points in 3 requests", r.points, n.Load(), r.err, rows)
	}
	if !strings.Contains(tn.logs.String(), "total count changed while paging") {
		t.Errorf("the change of the total is not logged:\n%s", tn.logs)
	}
}
