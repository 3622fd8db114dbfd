package sim

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TracesProvider is the only provider the outbound traces API serves (SAP Help: "Raw Data
// Outbound Traces API").
const TracesProvider = "rum"

// Span is one simulated Real User Monitoring span, as the traces API serves it.
type Span struct {
	ServiceID                     string
	TraceID, SpanID, ParentSpanID string // lower-case hex; ParentSpanID "" for a root span
	Name                          string
	Kind                          ptrace.SpanKind
	Start, End                    time.Time
	Status                        ptrace.StatusCode
	StatusMessage                 string
	Request, RequestType          string
	// User is the user name as served: the name with ScopeRUMUsers granted, else a pseudonym.
	User string
}

var (
	rumRequests = []string{"/sap/bc/ui5_ui5/sap/fin_gl/", "/sap/opu/odata/sap/API_SALES_ORDER_SRV", "/ui#SalesOrder-manage", "/sap/bc/gui/sap/its/webgui"}
	rumTypes    = []string{"UI5", "ODATA", "FLP", "WEBGUI"}
	rumUsers    = []string{"anna.meyer", "li.wei", "joao.silva", "fatima.khan", "tom.baker"}
)

// tracesIn returns the spans of a service that start in [from, to): up to two traces per
// minute, each a server span with one or two client spans that start after it (possibly in the
// next minute), only for traces of complete minutes (t + 1m <= now, less the late-records
// delay), in start order.
func (s *Server) tracesIn(si int, from, to, now time.Time, personal bool) []Span {
	svc := s.services[si]
	var out []Span
	from, to = from.UTC(), to.UTC()
	now = now.Add(-s.cfg.Behaviours.LateRecords) // late-records: a minute is served that much after it closes
	// a trace of the minute before from may have children inside [from, to)
	for t := from.Truncate(time.Minute).Add(-time.Minute); t.Before(to) && !t.Add(time.Minute).After(now); t = t.Add(time.Minute) {
		h := hash("traces", svc.ID, t)
		for i := range []int{0, 0, 1, 1, 1, 2, 2, 0}[h%8] {
			for _, sp := range s.trace(svc, t, i, h>>(8+i*20), personal) {
				if !sp.Start.Before(from) && sp.Start.Before(to) {
					out = append(out, sp)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Span) int { return a.Start.Compare(b.Start) })
	return out
}

// trace builds trace i of minute t of svc from the bits of h.
func (s *Server) trace(svc service, t time.Time, i int, h uint64, personal bool) []Span {
	key := fmt.Sprint(t.Unix(), i)
	traceID := hexID(16, "trace", svc.ID, key)
	start := t.Add(time.Duration(h%60000) * time.Millisecond)
	ri := int(h>>16) % len(rumRequests)
	user := rumUsers[int(h>>20)%len(rumUsers)]
	if !personal {
		user = "anonymous-" + hexID(4, "user", user) // the pseudonym SAP serves without the personal-data scope
	}
	root := Span{ServiceID: svc.ID, TraceID: traceID, SpanID: hexID(8, "span", svc.ID, key, "0"),
		Name: "GET " + rumRequests[ri], Kind: ptrace.SpanKindServer, Start: start,
		End: start.Add(time.Duration(200+h>>24%1800) * time.Millisecond), Status: ptrace.StatusCodeOk,
		Request: rumRequests[ri], RequestType: rumTypes[ri], User: user}
	if h>>36%8 == 0 {
		root.Status, root.StatusMessage = ptrace.StatusCodeError, "HTTP 500 Internal Server Error"
	}
	spans := []Span{root}
	for j := range 1 + int(h>>40%2) {
		cs := start.Add(time.Duration(50+j*700) * time.Millisecond)
		spans = append(spans, Span{ServiceID: svc.ID, TraceID: traceID, SpanID: hexID(8, "span", svc.ID, key, fmt.Sprint(j+1)),
			ParentSpanID: root.SpanID, Name: "POST /sap/opu/odata/$batch", Kind: ptrace.SpanKindClient,
			Start: cs, End: cs.Add(time.Duration(30+h>>44%400) * time.Millisecond),
			Request: root.Request, RequestType: root.RequestType, User: user})
	}
	return spans
}

// hexID is n bytes of the hash of the parts, in hex.
func hexID(n int, parts ...string) string {
	var b []byte
	for k := 0; len(b) < n; k++ {
		args := []any{fmt.Sprint(k)}
		for _, p := range parts {
			args = append(args, p)
		}
		b = binary.BigEndian.AppendUint64(b, hash(args...))
	}
	return hex.EncodeToString(b[:n])
}

// ExpectedSpans returns the spans the traces API holds for the services in [from, to) as of
// the simulator's clock, unpaged, in the API's order; personal says whether the token grants
// ScopeRUMUsers (user names) or not (pseudonyms).
func (s *Server) ExpectedSpans(serviceIDs []string, from, to time.Time, personal bool) []Span {
	return s.spans(serviceIDs, from, to, s.now(), personal)
}

func (s *Server) spans(serviceIDs []string, from, to, now time.Time, personal bool) []Span {
	var out []Span
	for i, svc := range s.services {
		if slices.Contains(serviceIDs, svc.ID) {
			out = append(out, s.tracesIn(i, from, to, now, personal)...)
		}
	}
	return out
}

func buildTraces(services []service, spans []Span) ptrace.Traces {
	td := ptrace.NewTraces()
	var ss ptrace.ScopeSpans
	last := ""
	for _, sp := range spans {
		if sp.ServiceID != last {
			rs := td.ResourceSpans().AppendEmpty()
			svc := services[slices.IndexFunc(services, func(svc service) bool { return svc.ID == sp.ServiceID })]
			rs.Resource().Attributes().PutStr("serviceId", svc.ID)
			rs.Resource().Attributes().PutStr("serviceName", svc.Name)
			rs.Resource().Attributes().PutStr("serviceType", svc.Type)
			ss = rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName("sap.calm.rum")
			last = sp.ServiceID
		}
		o := ss.Spans().AppendEmpty()
		o.SetTraceID(pcommon.TraceID(mustHex(sp.TraceID)))
		o.SetSpanID(pcommon.SpanID(mustHex(sp.SpanID)))
		if sp.ParentSpanID != "" {
			o.SetParentSpanID(pcommon.SpanID(mustHex(sp.ParentSpanID)))
		}
		o.SetName(sp.Name)
		o.SetKind(sp.Kind)
		o.SetStartTimestamp(pcommon.NewTimestampFromTime(sp.Start))
		o.SetEndTimestamp(pcommon.NewTimestampFromTime(sp.End))
		o.Status().SetCode(sp.Status)
		o.Status().SetMessage(sp.StatusMessage)
		o.Attributes().PutStr("request", sp.Request)
		o.Attributes().PutStr("requestType", sp.RequestType)
		o.Attributes().PutStr("user.name", sp.User)
	}
	return td
}

// mustHex decodes an id the simulator made itself.
func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(fmt.Sprintf("sim: id %q: %v", s, err))
	}
	return b
}

// handleTraces serves the outbound traces API with the logs API's conventions (SAP publishes
// the endpoint, its provider and its format, not its parameters): provider (rum) and serviceId
// required, limit and offset only with onLimit=truncate, a count above the cap refused with
// 403. format=protobuf-json is answered with OTLP JSON, anything else with OTLP protobuf; the
// strict reading answers protobuf whatever format says, as the logs API does. User names come
// only with ScopeRUMUsers granted.
func (s *Server) handleTraces(w http.ResponseWriter, r *http.Request) {
	tok := tokenFrom(r.Context())
	q := r.URL.Query()
	switch p := q.Get("provider"); {
	case p == "":
		missingParam("provider").write(w)
		return
	case p != TracesProvider:
		badParam("provider %q serves no traces; the traces providers are: %s", p, TracesProvider).write(w)
		return
	}
	ids := listParam(r, "serviceId")
	if len(ids) == 0 {
		missingParam("serviceId").write(w)
		return
	}
	now := s.now()
	from, to, pg, bad := s.rawQuery(r, "traces", now)
	if bad != nil {
		bad.write(w)
		return
	}
	spans := s.spans(ids, from, to, now, s.hasScope(tok.claims, ScopeRUMUsers, tok.faults))
	page, total, ok := cappedPage(s, w, spans, pg, tok.faults)
	if !ok {
		return
	}
	asJSON := q.Get("format") == "protobuf-json" && !s.cfg.Strict
	var m ptrace.Marshaler = &ptrace.ProtoMarshaler{}
	if asJSON {
		m = &ptrace.JSONMarshaler{}
	}
	body, err := m.MarshalTraces(buildTraces(s.services, page))
	writeOTLP(w, "traces", body, err, asJSON, total)
}
