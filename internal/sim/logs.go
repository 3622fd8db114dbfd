package sim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// LogRecord is one simulated exception log record.
type LogRecord struct {
	ServiceID    string
	Time         time.Time
	CategoryID   string
	CategoryName string
	ExceptionID  string
	Body         string
}

var logMessages = []string{
	"Runtime error MESSAGE_TYPE_X in program SAPLV45A",
	"Update task VB_ORDER_UPDATE terminated: DBSQL_DUPLICATE_KEY_ERROR",
	"Application log: Billing document 90001234 could not be posted",
	"Runtime error TSV_TNEW_PAGE_ALLOC_FAILED in program ZREPORT_SALES",
}

// LogProviders are the log providers SAP Help lists ("Raw Data Outbound Logs API"), in its
// order, each with the scope the simulator asks for it.
var LogProviders = []struct{ Name, Scope string }{
	{"exm.im", ScopeEXM}, {"exm.jam", ScopeEXM}, {"bsm", ScopeBSM}, {"im", ScopeIMM}, {"iep", ScopeIEP},
	{"jam.def", ScopeJAM}, {"jam.run", ScopeJAM}, {"jam.run_step", ScopeJAM},
}

// logProviderScope returns the scope of a log provider and whether it is one.
func logProviderScope(name string) (string, bool) {
	for _, p := range LogProviders {
		if p.Name == name {
			return p.Scope, true
		}
	}
	return "", false
}

// logSeed is what a provider's records are drawn from: exm.im keeps the seed of the
// simulator's one logs provider of before, so its records are those it always served.
func logSeed(provider string) string {
	if provider == "exm.im" {
		return "logs"
	}
	return "logs/" + provider
}

// logsIn returns the records of a log provider for a service in [from, to): up to two per
// minute, only for complete minutes (t + 1m <= now, less the late-records delay), in time
// order. Under the behaviour logs-exm-im-only, the providers other than exm.im hold none.
func (s *Server) logsIn(provider string, si int, from, to, now time.Time) []LogRecord {
	if s.cfg.Behaviours.LogsExmImOnly && provider != "exm.im" {
		return nil
	}
	svc := s.services[si]
	var out []LogRecord
	from, to = from.UTC(), to.UTC()
	now = now.Add(-s.cfg.Behaviours.LateRecords) // late-records: a minute is served that much after it closes
	first := from.Truncate(time.Minute)
	seed := logSeed(provider)
	for t := first; t.Before(to) && !t.Add(time.Minute).After(now); t = t.Add(time.Minute) {
		h := hash(seed, svc.ID, t)
		n := 0
		switch h % 10 {
		case 7, 8:
			n = 1
		case 9:
			n = 2
		}
		for i := range n {
			ts := t.Add(time.Duration((h>>(8+i*16))%60) * time.Second)
			if ts.Before(from) || !ts.Before(to) {
				continue
			}
			c := int((h >> (24 + i*8)) % 3)
			out = append(out, LogRecord{
				ServiceID: svc.ID, Time: ts, CategoryID: pools["categoryId"][c], CategoryName: pools["categoryName"][c],
				ExceptionID: uuidFrom(strings.Replace(seed, "logs", "exception", 1), svc.ID, fmt.Sprint(t.Unix(), i)),
				Body:        logMessages[int(h>>40)%len(logMessages)],
			})
		}
	}
	slices.SortStableFunc(out, func(a, b LogRecord) int { return a.Time.Compare(b.Time) })
	return out
}

// ExpectedLogs returns the records the logs API holds under provider exm.im for the services
// in [from, to) as of the simulator's clock, unpaged, in the API's order.
func (s *Server) ExpectedLogs(serviceIDs []string, from, to time.Time) []LogRecord {
	return s.logs("exm.im", serviceIDs, from, to, s.now())
}

// ExpectedLogsOf is ExpectedLogs for any log provider.
func (s *Server) ExpectedLogsOf(provider string, serviceIDs []string, from, to time.Time) []LogRecord {
	return s.logs(provider, serviceIDs, from, to, s.now())
}

func (s *Server) logs(provider string, serviceIDs []string, from, to, now time.Time) []LogRecord {
	var out []LogRecord
	for i, svc := range s.services {
		if slices.Contains(serviceIDs, svc.ID) {
			out = append(out, s.logsIn(provider, i, from, to, now)...)
		}
	}
	return out
}

func (s *Server) buildLogs(provider string, recs []LogRecord) plog.Logs {
	ld := plog.NewLogs()
	var sl plog.ScopeLogs
	last := ""
	for _, rec := range recs {
		if rec.ServiceID != last {
			rl := ld.ResourceLogs().AppendEmpty()
			i := slices.IndexFunc(s.services, func(svc service) bool { return svc.ID == rec.ServiceID })
			svc := s.services[i]
			rl.Resource().Attributes().PutStr("serviceId", svc.ID)
			rl.Resource().Attributes().PutStr("serviceName", svc.Name)
			rl.Resource().Attributes().PutStr("serviceType", svc.Type)
			sl = rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(logScopeName(provider))
			sl.Scope().SetVersion("v1")
			last = rec.ServiceID
		}
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(rec.Time))
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(rec.Time.Add(5 * time.Second)))
		lr.SetSeverityNumber(plog.SeverityNumberError)
		lr.SetSeverityText("ERROR")
		lr.Body().SetStr(rec.Body)
		lr.Attributes().PutStr("categoryId", rec.CategoryID)
		lr.Attributes().PutStr("categoryName", rec.CategoryName)
		lr.Attributes().PutStr("exceptionId", rec.ExceptionID)
	}
	return ld
}

// logScopeName is the instrumentation scope of a provider's records: exm.im keeps the name
// the simulator always gave its exception logs.
func logScopeName(provider string) string {
	if provider == "exm.im" {
		return "sap.calm.exm"
	}
	return "sap.calm." + provider
}

// handleLogs serves OTLP protobuf whatever format says (as the real API does). serviceId and
// provider (one of LogProviders, with its scope) are required; limit and offset only apply with
// onLimit=truncate, otherwise a count above the limit (or the server's cap) is refused with 403.
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	tok := tokenFrom(r.Context())
	ids := listParam(r, "serviceId")
	if len(ids) == 0 {
		missingParam("serviceId").write(w)
		return
	}
	provider := r.URL.Query().Get("provider")
	if provider == "" {
		missingParam("provider").write(w)
		return
	}
	scope, ok := logProviderScope(provider)
	if !ok {
		var names []string
		for _, p := range LogProviders {
			names = append(names, p.Name)
		}
		badParam("unknown log provider %q; known providers: %s", provider, strings.Join(names, ", ")).write(w)
		return
	}
	if !s.hasScope(tok.claims, scope, tok.faults) {
		writeError(w, http.StatusForbidden, "Forbidden", "Missing scope "+scope)
		return
	}
	now := s.now()
	from, to, pg, bad := s.rawQuery(r, "logs", now)
	if bad != nil {
		bad.write(w)
		return
	}
	page, total, ok := cappedPage(s, w, s.logs(provider, ids, from, to, now), pg, tok.faults)
	if !ok {
		return
	}
	body, err := (&plog.ProtoMarshaler{}).MarshalLogs(s.buildLogs(provider, page))
	writeOTLP(w, "logs", body, err, false, total)
}

// rawQuery reads the window and the page of a raw-data query (what: logs, traces): a strict
// simulator answers at most strictLogsSpan a query, any at most 31 days.
func (s *Server) rawQuery(r *http.Request, what string, now time.Time) (from, to time.Time, pg pageParams, bad *badRequest) {
	from, to, bad = parseWindow(r, "from", "to", now)
	if bad != nil {
		return from, to, pg, bad
	}
	if s.cfg.Strict && to.Sub(from) > strictLogsSpan {
		return from, to, pg, badParam("a %s query covers at most 60 minutes; asked from %s to %s",
			what, from.Format(TimeLayout), to.Format(TimeLayout))
	}
	if to.Sub(from) > 31*24*time.Hour {
		return from, to, pg, badParam("the window from %s to %s is longer than 31 days", from.Format(TimeLayout), to.Format(TimeLayout))
	}
	pg, bad = parsePage(r)
	return from, to, pg, bad
}

// cappedPage picks one page of the items of a raw-data API (logs, traces), after the
// truncate-cap behaviour (truncated): the limit is at most the cap (LogsCap); without
// onLimit=truncate a count above the limit is refused with 403, as the logs API does, and ok
// is false.
func cappedPage[T any](s *Server, w http.ResponseWriter, items []T, pg pageParams, f Faults) (page []T, total int, ok bool) {
	items, bad := truncated(s, items, pg)
	if bad != nil {
		bad.write(w)
		return nil, 0, false
	}
	limit := s.cfg.LogsCap
	if pg.limit > 0 && pg.limit < limit {
		limit = pg.limit
	}
	if !pg.truncate && len(items) > limit {
		setTotal(w, len(items))
		writeError(w, http.StatusForbidden, "Forbidden", "Response total count is over the limit")
		return nil, 0, false
	}
	pg.limit = limit
	page, total = pageOf(s, items, pg, f)
	return page, total, true
}
