package calm

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const providersPath = "/api/calm-analytics/v1/analytics/providers"

// sequence answers the i-th request with steps[i] (the last step repeats) and counts requests.
func sequence(n *atomic.Int32, steps ...http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		steps[min(i, len(steps)-1)](w, r)
	}
}

func status(code int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		w.Write([]byte(body))
	}
}

func providersOK(t *testing.T) http.HandlerFunc {
	body := readTestdata(t, "providers.json")
	return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, -1, body) }
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		steps     func(t *testing.T) []http.HandlerFunc
		wantCalls int32
		want      Stats // BytesRead and BytesWire not compared
	}{
		{
			name: "429 with Retry-After seconds",
			steps: func(t *testing.T) []http.HandlerFunc {
				return []http.HandlerFunc{status(429, map[string]string{"Retry-After": "1"}, `{"error":"too_many","message":"slow down"}`), providersOK(t)}
			},
			wantCalls: 2, want: Stats{Requests: 2, Retries: 1, Throttled: 1},
		},
		{
			name: "429 with Retry-After HTTP date",
			steps: func(t *testing.T) []http.HandlerFunc {
				return []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Retry-After", time.Now().Add(time.Second).UTC().Format(http.TimeFormat))
					w.WriteHeader(429)
				}, providersOK(t)}
			},
			wantCalls: 2, want: Stats{Requests: 2, Retries: 1, Throttled: 1},
		},
		{
			name: "503 burst",
			steps: func(t *testing.T) []http.HandlerFunc {
				s := status(503, nil, "busy")
				return []http.HandlerFunc{s, s, s, providersOK(t)}
			},
			wantCalls: 4, want: Stats{Requests: 4, Retries: 3},
		},
		{
			name: "transport error",
			steps: func(t *testing.T) []http.HandlerFunc {
				hangUp := func(w http.ResponseWriter, r *http.Request) {
					conn, _, err := w.(http.Hijacker).Hijack()
					if err != nil {
						t.Error(err)
						return
					}
					conn.Close()
				}
				return []http.HandlerFunc{hangUp, providersOK(t)}
			},
			wantCalls: 2, want: Stats{Requests: 2, Retries: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTenant(t)
			var n atomic.Int32
			tn.mux.Handle("GET "+providersPath, sequence(&n, tt.steps(t)...))
			c := tn.client(nil)
			ps, err := c.Providers(context.Background())
			if err != nil {
				t.Fatalf("Providers: %v", err)
			}
			if len(ps) != 2 {
				t.Errorf("providers = %+v", ps)
			}
			got := c.Stats()
			if got.BytesRead == 0 {
				t.Error("BytesRead = 0")
			}
			got.BytesRead, got.BytesWire = 0, 0
			if n.Load() != tt.wantCalls || got != tt.want {
				t.Errorf("calls %d stats %+v, want %d %+v", n.Load(), got, tt.wantCalls, tt.want)
			}
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	tn := newTenant(t)
	var n atomic.Int32
	tn.mux.Handle("GET "+providersPath, sequence(&n, status(503, map[string]string{"X-Correlationid": "corr-1", "Content-Type": "application/json"}, `{"error":{"code":"UNAVAILABLE","message":"maintenance"}}`)))
	c := tn.client(func(o *Options) { o.MaxRetries = 2 })
	_, err := c.Providers(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Fatalf("err = %v, want *APIError 503", err)
	}
	want := "list providers: GET /api/calm-analytics/v1/analytics/providers: HTTP 503 Service Unavailable: UNAVAILABLE: maintenance (x-correlationid corr-1) (after 3 attempts)"
	if err.Error() != want {
		t.Errorf("err =\n%s\nwant\n%s", err, want)
	}
	if s := c.Stats(); n.Load() != 3 || s.Requests != 3 || s.Retries != 2 || s.Errors != 1 {
		t.Errorf("calls %d, stats %+v", n.Load(), s)
	}
}

func TestRetryNeverSleepsPastDeadline(t *testing.T) {
	tn := newTenant(t)
	var n atomic.Int32
	tn.mux.Handle("GET "+providersPath, sequence(&n, status(429, map[string]string{"Retry-After": "60"}, ""), providersOK(t)))
	c := tn.client(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Providers(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter != time.Minute {
		t.Fatalf("err = %#v, want *APIError 429 with RetryAfter 1m", err)
	}
	if !strings.Contains(err.Error(), "not retrying: waiting 1m0s would pass the deadline") {
		t.Errorf("err = %v", err)
	}
	if ctx.Err() != nil || n.Load() != 1 {
		t.Errorf("ctx err %v, calls %d: the client waited", ctx.Err(), n.Load())
	}
	// Backoff waits are checked against the deadline too.
	c2 := tn.client(func(o *Options) { o.BaseBackoff, o.MaxBackoff = time.Hour, time.Hour })
	n.Store(0)
	tn.mux.Handle("GET /api/bsm-service/v1/events", sequence(&n, status(502, nil, "")))
	for _, err := range c2.StatusEvents(ctx, EventsQuery{From: winFrom, To: winTo}) {
		if err == nil || !strings.Contains(err.Error(), "would pass the deadline") {
			t.Errorf("err = %v", err)
		}
	}
	if n.Load() != 1 {
		t.Errorf("calls %d, want 1", n.Load())
	}
}

func TestCancelWhileWaiting(t *testing.T) {
	tn := newTenant(t)
	var n atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	tn.mux.Handle("GET "+providersPath, sequence(&n, status(500, nil, "")))
	// The caller gives up right after the 500 arrived, while the client would wait an hour.
	cancelAfter := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if r.URL.Path == providersPath {
			cancel()
		}
		return resp, err
	})
	c := tn.client(func(o *Options) {
		o.BaseBackoff, o.MaxBackoff = time.Hour, time.Hour
		o.HTTPClient = &http.Client{Transport: cancelAfter}
	})
	_, err := c.Providers(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 500 {
		t.Errorf("err = %v, want the 500 as well", err)
	}
}

func TestUnauthorizedRefreshesOnce(t *testing.T) {
	tn := newTenant(t)
	tn.mux.Handle("GET "+providersPath, providersOK(t))
	c := tn.client(nil)
	if _, err := c.Providers(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The tenant revokes the token: the next call gets 401, refreshes, and succeeds.
	tn.mu.Lock()
	tn.current = "revoked"
	tn.mu.Unlock()
	if _, err := c.Providers(context.Background()); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := tn.tokenCalls.Load(); n != 2 {
		t.Errorf("token calls = %d, want 2", n)
	}
	if s := c.Stats(); s.Requests != 3 || s.Retries != 1 || s.Errors != 0 {
		t.Errorf("stats %+v", s)
	}

	// An endpoint that always answers 401: one refresh, one retry, then the error.
	var n atomic.Int32
	tn.mux.Handle("GET /api/bsm-service/v1/events", sequence(&n, status(401, map[string]string{"Content-Type": "application/json"}, `{"error":"unauthorized","message":"Full authentication is required"}`)))
	for _, err := range c.StatusEvents(context.Background(), EventsQuery{From: winFrom, To: winTo}) {
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Message != "unauthorized: Full authentication is required" {
			t.Errorf("err = %v", err)
		}
	}
	if n.Load() != 2 || tn.tokenCalls.Load() != 3 {
		t.Errorf("calls %d, token calls %d; want 2 and 3", n.Load(), tn.tokenCalls.Load())
	}
}

func TestAPIErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    APIError
		msg     string
	}{
		{
			name:    "SAP error body and headers",
			handler: status(403, map[string]string{"Content-Type": "application/json", "X-Correlationid": "c-42", "Sap-Message": `{"code":"W1"}`}, `{"error":"forbidden","message":"Missing scope calm-api.analytics.read"}`),
			want:    APIError{StatusCode: 403, CorrelationID: "c-42", SAPMessage: `{"code":"W1"}`, Message: "forbidden: Missing scope calm-api.analytics.read"},
			msg:     `GET /api/calm-analytics/v1/analytics/providers: HTTP 403 Forbidden: forbidden: Missing scope calm-api.analytics.read (sap-message: {"code":"W1"}) (x-correlationid c-42)`,
		},
		{
			name:    "OData error body",
			handler: status(428, map[string]string{"Content-Type": "application/json"}, `{"error":{"code":"PRECONDITION","message":{"lang":"en","value":"serviceId is required"}}}`),
			want:    APIError{StatusCode: 428, Message: "PRECONDITION: serviceId is required"},
			msg:     "GET /api/calm-analytics/v1/analytics/providers: HTTP 428 Precondition Required: PRECONDITION: serviceId is required",
		},
		{
			name:    "plain text body",
			handler: status(404, nil, "no such\nresource"),
			want:    APIError{StatusCode: 404, Message: "no such resource"},
			msg:     "GET /api/calm-analytics/v1/analytics/providers: HTTP 404 Not Found: no such resource",
		},
		{
			name:    "HTML error page",
			handler: status(404, map[string]string{"Content-Type": "text/html"}, "<html><body>Not Found</body></html>"),
			want:    APIError{StatusCode: 404, HTML: true},
			msg:     "GET /api/calm-analytics/v1/analytics/providers: HTTP 404 Not Found: not a Cloud ALM API response — check the URL setting (it must be the endpoints.Api value without /api)",
		},
		{
			name:    "HTML login page with 200 and a JSON content type",
			handler: status(200, map[string]string{"Content-Type": "application/json"}, "\n<!DOCTYPE html><html>login</html>"),
			want:    APIError{StatusCode: 200, HTML: true},
			msg:     "GET /api/calm-analytics/v1/analytics/providers: HTTP 200 OK: not a Cloud ALM API response — check the URL setting (it must be the endpoints.Api value without /api)",
		},
		{
			name:    "huge error body is read bounded",
			handler: status(400, nil, strings.Repeat("x", 1<<20)),
			want:    APIError{StatusCode: 400, Message: strings.Repeat("x", 200) + "…"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTenant(t)
			tn.mux.Handle("GET "+providersPath, tt.handler)
			c := tn.client(nil)
			_, err := c.Providers(context.Background())
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			tt.want.Method, tt.want.Path = "GET", providersPath
			if *ae != tt.want {
				t.Errorf("APIError = %+v\nwant %+v", *ae, tt.want)
			}
			if tt.msg != "" && ae.Error() != tt.msg {
				t.Errorf("Error() =\n%s\nwant\n%s", ae.Error(), tt.msg)
			}
			if s := c.Stats(); s.BytesRead > maxErrorBody+1024 || s.Requests != 1 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	tn := newTenant(t)
	tn.mux.Handle("GET "+providersPath, providersOK(t))
	c := tn.client(func(o *Options) { o.MaxBodyBytes = 100 })
	_, err := c.Providers(context.Background())
	want := "list providers: GET /api/calm-analytics/v1/analytics/providers: answer is larger than 100 bytes (MaxBodyBytes), counted decompressed; ask for less (smaller limit or window)"
	if err == nil || err.Error() != want {
		t.Errorf("err =\n%v\nwant\n%s", err, want)
	}
	if s := c.Stats(); s.BytesRead != 101 || s.Retries != 0 {
		t.Errorf("stats %+v, want 101 bytes read and no retry", s)
	}
}

func TestTokenFailureReachesCaller(t *testing.T) {
	tn := newTenant(t)
	tn.tokenFail.Store(status(401, map[string]string{"Content-Type": "application/json"}, `{"error":"invalid_client","error_description":"Bad credentials"}`))
	c := tn.client(nil)
	_, err := c.Providers(context.Background())
	var te *TokenError
	if !errors.As(err, &te) || te.Code != "invalid_client" {
		t.Fatalf("err = %v, want *TokenError invalid_client", err)
	}
	if tn.tokenCalls.Load() != 0 || c.Stats().Requests != 0 || c.Stats().Retries != 0 {
		t.Errorf("an API request was sent without a token, or a refused client was retried")
	}
}

func TestTokenEndpointOutageIsRetried(t *testing.T) {
	tn := newTenant(t)
	var n atomic.Int32
	tn.tokenFail.Store(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		tn.writeToken(w)
	}))
	tn.mux.Handle("GET "+providersPath, providersOK(t))
	c := tn.client(nil)
	if _, err := c.Providers(context.Background()); err != nil {
		t.Fatalf("Providers: %v", err)
	}
	if s := c.Stats(); n.Load() != 2 || s.Retries != 1 || s.Requests != 1 {
		t.Errorf("token calls %d, stats %+v", n.Load(), s)
	}
}

// TestNoSecretInErrorsOrLogs drives failures of every kind and checks that neither the client
// secret nor any token handed out shows up in an error string or a log line.
func TestNoSecretInErrorsOrLogs(t *testing.T) {
	tn := newTenant(t)
	var tokens []string
	var n atomic.Int32
	tn.mux.Handle("GET "+providersPath, sequence(&n,
		status(500, nil, "oops"),
		func(w http.ResponseWriter, r *http.Request) {
			tokens = append(tokens, tn.token())
			tn.mu.Lock()
			tn.current = "revoked"
			tn.mu.Unlock()
			w.WriteHeader(401)
		},
		status(429, map[string]string{"Retry-After": "0"}, ""),
		status(403, map[string]string{"Content-Type": "application/json"}, `{"error":"forbidden","message":"no"}`),
	))
	c := tn.client(nil)
	var errs []string
	for range 3 {
		if _, err := c.Providers(context.Background()); err != nil {
			errs = append(errs, err.Error())
		}
	}
	tokens = append(tokens, tn.token())
	tn.tokenFail.Store(status(400, map[string]string{"Content-Type": "application/json"}, `{"error":"invalid_request","error_description":"secret `+skSecret+` rejected"}`))
	if _, err := c.Tokens().Refresh(context.Background()); err != nil {
		errs = append(errs, err.Error())
	}
	tn.uaa.Close()
	if _, err := c.Tokens().Refresh(context.Background()); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) < 3 {
		t.Fatalf("expected failures, got %q", errs)
	}
	logs := tn.logs.String()
	if !strings.Contains(logs, "retrying") {
		t.Errorf("no retry was logged: %s", logs)
	}
	for _, s := range append(errs, logs) {
		if strings.Contains(s, skSecret) {
			t.Errorf("client secret leaked: %s", s)
		}
		for _, tok := range tokens {
			if tok != "" && strings.Contains(s, tok) {
				t.Errorf("token leaked: %s", s)
			}
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAnswerCap(t *testing.T) {
	for _, tc := range []struct {
		budget      int64
		concurrency int
		want        int64
	}{
		{96 << 20, 4, 4 << 20},           // the collect function: half of 192 MiB, 4 callers × 2 walks × 3 answers
		{128 << 20, 4, (128 << 20) / 24}, // GOMEMLIMIT=256MiB
		{2 << 30, 4, 64 << 20},           // never above the default
		{16 << 20, 8, 4 << 20},           // never below a page of 5,000 points
		{0, 4, DefaultMaxBodyBytes},      // no budget: the default
		{128 << 20, 0, (128 << 20) / 6},  // no concurrency given: one caller
	} {
		if got := AnswerCap(tc.budget, tc.concurrency); got != tc.want {
			t.Errorf("AnswerCap(%d MiB, %d) = %d, want %d", tc.budget>>20, tc.concurrency, got, tc.want)
		}
	}
}
