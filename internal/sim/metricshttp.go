package sim

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	tok := tokenFrom(r.Context())
	q := r.URL.Query()
	if v := q.Get("version"); v != "" && !strings.EqualFold(v, "v1") {
		badParam("parameter version %q is not supported; use V1", v).write(w)
		return
	}
	id := q.Get("provider")
	if id == "" {
		missingParam("provider").write(w)
		return
	}
	p := lookupProvider(id)
	if p == nil {
		badParam("unknown provider %q; known providers: %s", id, strings.Join(ProviderIDs(), ", ")).write(w)
		return
	}
	if !s.hasScope(tok.claims, p.scope, tok.faults) {
		writeError(w, http.StatusForbidden, "Forbidden", "Missing scope "+p.scope)
		return
	}
	if s.cfg.Strict && s.strictMetrics(w, r) {
		return
	}
	if s.cfg.Behaviours.RUMServiceLimit && p.id == "rum" && len(listParam(r, "serviceId")) == 0 {
		(&badRequest{http.StatusPreconditionRequired, "Precondition Required",
			fmt.Sprintf("At most %d services or systems allowed in scope", rumMaxServices)}).write(w)
		return
	}
	now := s.now()
	mq, pg, binary, bad := s.parseMetricsRequest(r, now)
	if bad != nil {
		bad.write(w)
		return
	}
	pts, bad := s.points(mq, now)
	if bad != nil {
		bad.write(w)
		return
	}
	pts, bad = truncated(s, pts, pg)
	if bad != nil {
		bad.write(w)
		return
	}
	var page []Point
	var total int
	if s.cfg.Strict {
		page, total = s.rowsPage(pts, pg, tok.faults)
	} else {
		page, total = pageOf(s, pts, pg, tok.faults)
	}
	if s.cfg.Behaviours.EndStamps {
		for i := range page {
			page[i].Time = page[i].Time.Add(mq.Resolution)
		}
	}
	var m pmetric.Marshaler = &pmetric.JSONMarshaler{}
	if binary {
		m = &pmetric.ProtoMarshaler{}
	}
	body, err := m.MarshalMetrics(buildMetrics(p, page))
	writeOTLP(w, "metrics", body, err, !binary, total)
}

// parseMetricsRequest reads the query, page and format of a metrics request.
func (s *Server) parseMetricsRequest(r *http.Request, now time.Time) (Query, pageParams, bool, *badRequest) {
	q := r.URL.Query()
	res, bad := parseResolution(q.Get("resolution"))
	if bad != nil {
		return Query{}, pageParams{}, false, bad
	}
	fromName, toName := "from", "to"
	if s.cfg.Behaviours.IgnoreFromTo {
		fromName, toName = "", "" // read by period only
	}
	from, to, bad := parseWindow(r, fromName, toName, now)
	if bad != nil {
		return Query{}, pageParams{}, false, bad
	}
	services := listParam(r, "serviceId")
	if s.cfg.Behaviours.NoServiceList {
		services = q["serviceId"] // a comma list is one (unknown) id
	}
	var measures []string
	for _, m := range listParam(r, "metrics") {
		measures = append(measures, strings.TrimPrefix(m, "measure:"))
	}
	pg, bad := parsePage(r)
	if bad != nil {
		return Query{}, pageParams{}, false, bad
	}
	binary := false
	switch f := q.Get("format"); f {
	case "", "protobuf-json":
	case "protobuf-binary":
		if s.cfg.NoBinary {
			return Query{}, pageParams{}, false, badParam("parameter format %q is not supported; use protobuf-json", f)
		}
		binary = true
	default:
		return Query{}, pageParams{}, false, badParam("parameter format %q is not supported by the simulator; use protobuf-json or protobuf-binary", f)
	}
	return Query{
		Provider: q.Get("provider"), From: from, To: to, Resolution: res, ServiceIDs: services,
		ServiceType: q.Get("serviceType"), Measures: measures, Dimensions: listParam(r, "dimensions"),
		Prefix: q.Get("prefix"),
	}, pg, binary, nil
}

var periodRE = regexp.MustCompile(`^[LC]?(\d+)(Mi|M|H|D)$`)

// parseWindow reads [from, to) from yyyyMMddHHmmss parameters, or from period (L1H, C24H,
// 30M, …) counted back from now; the default is the last hour. Empty names read by period only.
func parseWindow(r *http.Request, fromName, toName string, now time.Time) (time.Time, time.Time, *badRequest) {
	q := r.URL.Query()
	var fv, tv string
	if fromName != "" {
		fv, tv = q.Get(fromName), q.Get(toName)
	}
	if fv == "" && tv == "" {
		span := time.Hour
		if pv := q.Get("period"); pv != "" {
			m := periodRE.FindStringSubmatch(pv)
			if m == nil {
				return time.Time{}, time.Time{}, badParam("parameter period %q is not like L1H, C24H, L7D or 30M", pv)
			}
			n, _ := strconv.Atoi(m[1])
			unit := map[string]time.Duration{"Mi": time.Minute, "M": time.Minute, "H": time.Hour, "D": 24 * time.Hour}[m[2]]
			span = time.Duration(n) * unit
		}
		return now.Add(-span), now, nil
	}
	if fv == "" || tv == "" {
		missing := fromName
		if tv == "" {
			missing = toName
		}
		return time.Time{}, time.Time{}, badParam("parameter %s is missing; give both %s and %s (yyyyMMddHHmmss, UTC)", missing, fromName, toName)
	}
	from, err := time.ParseInLocation(TimeLayout, fv, time.UTC)
	if err != nil {
		return time.Time{}, time.Time{}, badParam("parameter %s %q is not a yyyyMMddHHmmss UTC time", fromName, fv)
	}
	to, err := time.ParseInLocation(TimeLayout, tv, time.UTC)
	if err != nil {
		return time.Time{}, time.Time{}, badParam("parameter %s %q is not a yyyyMMddHHmmss UTC time", toName, tv)
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, badParam("parameter %s (%s) must be before %s (%s)", fromName, fv, toName, tv)
	}
	return from, to, nil
}

// sortPoints puts points in API order: service, measure (in the order asked for), series, time.
func sortPoints(pts []Point, measures []int) {
	sort.SliceStable(pts, func(i, j int) bool {
		a, b := pts[i], pts[j]
		if a.svc != b.svc {
			return a.svc < b.svc
		}
		if a.measure != b.measure {
			return slices.Index(measures, a.measure) < slices.Index(measures, b.measure)
		}
		if a.series != b.series {
			return a.series < b.series
		}
		return a.Time.Before(b.Time)
	})
}

// truncated applies the truncate-cap behaviour to a result set of n items: cut at the cap when
// asked with onLimit=TRUNCATE, refused with 403 otherwise (as the logs API refuses a count over
// its limit, docs/design.md §1.4).
func truncated[T any](s *Server, items []T, pg pageParams) ([]T, *badRequest) {
	c := s.cfg.Behaviours.TruncateCap
	if c <= 0 || len(items) <= c {
		return items, nil
	}
	if !pg.truncate {
		return nil, &badRequest{http.StatusForbidden, "Forbidden", "Response total count is over the limit"}
	}
	return items[:c], nil
}
