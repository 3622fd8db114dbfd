package calm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

const (
	logsPath   = "/api/calm-logs/v1/logs"
	logService = "0f4e1a2b-1111-4c3d-9e8f-000000000001"
)

// logsDoc builds an OTLP logs payload with records [from, from+n) of one service, each distinct.
func logsDoc(from, n int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("serviceId", logService)
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := from; i < from+n; i++ {
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(winFrom.Add(time.Duration(i) * time.Second)))
		lr.Body().SetStr(fmt.Sprintf("exception %d", i))
	}
	return ld
}

func logsProto(t testing.TB, ld plog.Logs) []byte {
	t.Helper()
	b, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logsQuery is the exact query Logs sends for winFrom–winTo at offset 0.
func logsQuery(limit string) url.Values {
	return url.Values{
		"version": {"V1"}, "serviceId": {logService}, "from": {"20261125100000"}, "to": {"20261125100500"},
		"format": {"protobuf-json"}, "preserveTimeStamp": {"true"}, "observedTimestamp": {"true"},
		"limit": {limit}, "offset": {"0"}, "onLimit": {"truncate"},
	}
}

type logsResult struct {
	bodies  []string
	offsets []int
	err     error
}

func collectLogs(c *Client, q LogsQuery) logsResult {
	var r logsResult
	for p, err := range c.Logs(context.Background(), q) {
		if err != nil {
			r.err = err
			break
		}
		r.offsets = append(r.offsets, p.Offset)
		if p.Records != p.Logs.LogRecordCount() {
			r.err = fmt.Errorf("page at %d: Records %d, log records %d", p.Offset, p.Records, p.Logs.LogRecordCount())
			break
		}
		for _, rl := range p.Logs.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					r.bodies = append(r.bodies, lr.Body().AsString())
				}
			}
		}
	}
	return r
}

func bodies(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("exception %d", i))
	}
	return out
}

// logsServer serves GET /api/calm-logs/v1/logs with serve(limit, offset) after checking the
// query (everything but limit and offset) against want; it records the limits asked for.
func logsServer(t *testing.T, tn *tenant, want url.Values, serve func(w http.ResponseWriter, limit, offset int)) *[]string {
	return rawServer(t, tn, logsPath, want, serve)
}

// rawServer is logsServer for the raw-data API at path (logs, traces).
func rawServer(t *testing.T, tn *tenant, path string, want url.Values, serve func(w http.ResponseWriter, limit, offset int)) *[]string {
	var mu sync.Mutex
	var asked []string
	tn.mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, _ := strconv.Atoi(q.Get("limit"))
		offset, _ := strconv.Atoi(q.Get("offset"))
		mu.Lock()
		asked = append(asked, q.Get("limit")+"@"+q.Get("offset"))
		mu.Unlock()
		w2 := url.Values{}
		for k, v := range want {
			w2[k] = v
		}
		w2.Set("limit", q.Get("limit"))
		w2.Set("offset", q.Get("offset"))
		if !reflect.DeepEqual(q, w2) {
			t.Errorf("query =\n%v\nwant\n%v", q, w2)
		}
		serve(w, limit, offset)
	})
	return &asked
}

func TestLogsPagesAndQuery(t *testing.T) {
	tn := newTenant(t)
	const total = 7
	asked := logsServer(t, tn, logsQuery("3"), func(w http.ResponseWriter, limit, offset int) {
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
		w.Write(logsProto(t, logsDoc(offset, min(limit, total-offset))))
	})
	r := collectLogs(tn.client(func(o *Options) { o.PageSize = 3 }), LogsQuery{ServiceID: logService, From: winFrom, To: winTo})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !reflect.DeepEqual(r.bodies, bodies(0, total)) || !reflect.DeepEqual(r.offsets, []int{0, 3, 6}) {
		t.Errorf("bodies %v offsets %v", r.bodies, r.offsets)
	}
	if want := []string{"3@0", "3@3", "3@6"}; !reflect.DeepEqual(*asked, want) {
		t.Errorf("requests %v, want %v", *asked, want)
	}
}

func TestLogsProviderAndJSONAnswer(t *testing.T) {
	tn := newTenant(t)
	want := logsQuery("5000")
	want.Set("provider", "EXM_DATAPROVIDER")
	logsServer(t, tn, want, func(w http.ResponseWriter, _, _ int) {
		b, err := plogotlp.NewExportRequestFromLogs(logsDoc(0, 2)).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		writeJSON(w, 2, b)
	})
	r := collectLogs(tn.client(nil), LogsQuery{ServiceID: logService, From: winFrom, To: winTo, Provider: "EXM_DATAPROVIDER"})
	if r.err != nil || !reflect.DeepEqual(r.bodies, bodies(0, 2)) {
		t.Errorf("bodies %v, err %v", r.bodies, r.err)
	}
}

func TestLogsEmptyAnswer(t *testing.T) {
	tn := newTenant(t)
	logsServer(t, tn, logsQuery("5000"), func(w http.ResponseWriter, _, _ int) {
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Header().Set("X-Total-Count", "0")
	})
	r := collectLogs(tn.client(nil), LogsQuery{ServiceID: logService, From: winFrom, To: winTo})
	if r.err != nil || len(r.bodies) != 0 || !reflect.DeepEqual(r.offsets, []int{0}) {
		t.Errorf("bodies %v offsets %v err %v", r.bodies, r.offsets, r.err)
	}
}

func TestLogsBadQueryMakesNoRequest(t *testing.T) {
	tn := newTenant(t)
	tn.mux.HandleFunc("GET "+logsPath, func(w http.ResponseWriter, r *http.Request) { t.Errorf("request %s", r.URL) })
	c := tn.client(nil)
	for _, tt := range []struct {
		q    LogsQuery
		want string
	}{
		{LogsQuery{From: winFrom, To: winTo}, "logs of service  20261125100000–20261125100500: serviceId must be set (the logs API answers 428 without it)"},
		{LogsQuery{ServiceID: "s", From: winTo, To: winTo}, "logs of service s 20261125100500–20261125100500: to must be after from"},
	} {
		if r := collectLogs(c, tt.q); r.err == nil || r.err.Error() != tt.want {
			t.Errorf("err = %v, want %s", r.err, tt.want)
		}
	}
	if n := tn.tokenCalls.Load(); n != 0 {
		t.Errorf("%d token calls for a bad query", n)
	}
}

func TestLogsOverLimit(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		over       bool
	}{
		{"count cap", `{"error":"Forbidden","message":"Response total count is over the limit"}`, true},
		{"missing scope", `{"error":"Forbidden","message":"Insufficient scope"}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTenant(t)
			var calls int
			tn.mux.HandleFunc("GET "+logsPath, func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Correlationid", "corr-1")
				w.WriteHeader(http.StatusForbidden)
				w.Write([]byte(tt.body))
			})
			r := collectLogs(tn.client(nil), LogsQuery{ServiceID: logService, From: winFrom, To: winTo})
			if errors.Is(r.err, ErrOverLimit) != tt.over {
				t.Errorf("errors.Is(%v, ErrOverLimit) = %v, want %v", r.err, !tt.over, tt.over)
			}
			var apiErr *APIError
			if !errors.As(r.err, &apiErr) || apiErr.StatusCode != 403 || apiErr.CorrelationID != "corr-1" {
				t.Errorf("err = %v, want the *APIError inside", r.err)
			}
			if calls != 1 {
				t.Errorf("%d requests, want 1 (a 403 is not retried)", calls)
			}
		})
	}
}

// A server that serves fewer records per request than asked is paged by its own size, and
// its first page is not fetched twice. (Paged by the asked limit, the pager would stop with
// ErrTooManyPages after ceil(20/10)+2 pages.)
func TestLogsServerPageCap(t *testing.T) {
	tn := newTenant(t)
	const total, served = 20, 3
	asked := logsServer(t, tn, logsQuery("10"), func(w http.ResponseWriter, limit, offset int) {
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
		w.Write(logsProto(t, logsDoc(offset, min(limit, served, total-offset))))
	})
	r := collectLogs(tn.client(func(o *Options) { o.PageSize = 10 }), LogsQuery{ServiceID: logService, From: winFrom, To: winTo})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !reflect.DeepEqual(r.bodies, bodies(0, total)) || !reflect.DeepEqual(r.offsets, []int{0, 3, 6, 9, 12, 15, 18}) {
		t.Errorf("bodies %v offsets %v", r.bodies, r.offsets)
	}
	if want := []string{"10@0", "3@3", "3@6", "3@9", "3@12", "3@15", "3@18"}; !reflect.DeepEqual(*asked, want) {
		t.Errorf("requests %v, want %v", *asked, want)
	}
	if !strings.Contains(tn.logs.String(), "paging by its size") {
		t.Errorf("the smaller page size is not logged:\n%s", tn.logs)
	}
}

func TestLogsBadBody(t *testing.T) {
	tn := newTenant(t)
	logsServer(t, tn, logsQuery("5000"), func(w http.ResponseWriter, _, _ int) {
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write([]byte{0x0a, 0xff, 0xff}) // a field longer than the body
	})
	r := collectLogs(tn.client(nil), LogsQuery{ServiceID: logService, From: winFrom, To: winTo})
	want := `logs of service ` + logService + ` 20261125100000–20261125100500 at offset 0: decode OTLP protobuf logs (Content-Type "application/x-protobuf"): `
	if r.err == nil || !strings.HasPrefix(r.err.Error(), want) {
		t.Errorf("err = %v, want it to start with %s", r.err, want)
	}
}

// A protobuf page whose bytes happen to start like an HTML page ('<' once leading newline bytes
// are skipped: a first resource of 60 bytes) is read as logs, not taken for an HTML answer.
func TestLogsProtobufStartingWithAngleBracket(t *testing.T) {
	var body []byte
	for n := 0; n < 60 && body == nil; n++ {
		ld := plog.NewLogs()
		ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(strings.Repeat("x", n))
		if b := logsProto(t, ld); b[0] == '\n' && b[1] == '<' {
			body = b
		}
	}
	if body == nil {
		t.Fatal("found no payload starting with \"\\n<\"")
	}
	tn := newTenant(t)
	logsServer(t, tn, logsQuery("5000"), func(w http.ResponseWriter, _, _ int) {
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(body)
	})
	r := collectLogs(tn.client(nil), LogsQuery{ServiceID: logService, From: winFrom, To: winTo})
	if r.err != nil || len(r.bodies) != 1 {
		t.Errorf("bodies %d, err %v; want the one log record", len(r.bodies), r.err)
	}
}

// {} and null are no log records whatever the Content-Type says (the API answers protobuf).
func TestDecodeLogsEmptyObject(t *testing.T) {
	for _, body := range []string{"{}", " null ", ""} {
		ld, err := decodeLogs("application/x-protobuf", []byte(body))
		if err != nil || ld.LogRecordCount() != 0 {
			t.Errorf("decodeLogs(%q) = %d records, %v; want none, no error", body, ld.LogRecordCount(), err)
		}
	}
}
