package sim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const providersPath = "/api/calm-analytics/v1/analytics/providers"

func TestFaultRateLimitAndServerErrors(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	s.SetFaults(Faults{RateLimit: 2, RetryAfter: "Wed, 25 Nov 2026 10:05:00 GMT", ServerErrors: 1})
	var got []int
	for range 4 {
		r := get(t, s, tok, providersPath, nil)
		got = append(got, r.status)
		if r.status == 429 && r.header.Get("Retry-After") != "Wed, 25 Nov 2026 10:05:00 GMT" {
			t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
		}
		if r.header.Get("x-correlationid") == "" {
			t.Error("fault answer without x-correlationid")
		}
	}
	if want := []int{503, 429, 429, 200}; !equalInts(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	s.SetFaults(Faults{RateLimit: 1})
	if r := get(t, s, tok, providersPath, nil); r.header.Get("Retry-After") != "1" {
		t.Errorf("default Retry-After %q", r.header.Get("Retry-After"))
	}
	// The token endpoint is not rate limited.
	s.SetFaults(Faults{RateLimit: 1})
	token(t, s)
	if f := s.Faults(); f.RateLimit != 1 {
		t.Errorf("token call used up a rate-limit fault: %+v", f)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFaultSlowHonoursTheCaller(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	s.SetFaults(Faults{Slow: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+providersPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow answer: %v, want the caller's deadline", err)
	}
}

func TestFaultHTMLPage(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	s.SetFaults(Faults{HTMLPage: true})
	r := get(t, s, tok, providersPath, nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "Log On") {
		t.Errorf("HTML fault: %v", r)
	}
}

func TestFaultTokenExpiresEarly(t *testing.T) {
	s, clk := start(t, Config{})
	s.SetFaults(Faults{TokenExpiresAfter: time.Minute})
	tok := token(t, s)
	if r := get(t, s, tok, providersPath, nil); r.status != 200 {
		t.Fatalf("fresh token: %v", r)
	}
	clk.Set(t0.Add(time.Minute))
	if r := get(t, s, tok, providersPath, nil); r.status != 401 {
		t.Errorf("token after TokenExpiresAfter: %v", r)
	}
	s.SetFaults(Faults{})
	if r := get(t, s, token(t, s), providersPath, nil); r.status != 200 {
		t.Errorf("new token: %v", r)
	}
}

func TestFaultRevokeTokens(t *testing.T) {
	s, _ := start(t, Config{})
	old := token(t, s)
	s.SetFaults(Faults{RevokeTokens: true})
	if r := get(t, s, old, providersPath, nil); r.status != 401 {
		t.Errorf("revoked token: %v", r)
	}
	if r := get(t, s, token(t, s), providersPath, nil); r.status != 200 {
		t.Errorf("token issued after the revocation: %v", r)
	}
}

func TestFaultResetConnections(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	s.SetFaults(Faults{ResetConnections: 1})
	req, _ := http.NewRequest(http.MethodGet, s.URL()+providersPath, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	// A fresh transport: the default one retries idempotent requests on a reused connection.
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	if res, err := hc.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("reset connection answered %s", res.Status)
	}
	if r := get(t, s, tok, providersPath, nil); r.status != 200 {
		t.Errorf("after the reset: %v", r)
	}
}

func TestFaultPagers(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	page := func(offset int) ([]LandscapeObject, string) {
		r := get(t, s, tok, "/api/calm-landscape/v1/landscapeObjects", url.Values{"limit": {"4"}, "offset": {strconv.Itoa(offset)}})
		var objs []LandscapeObject
		if err := json.Unmarshal(r.body, &objs); err != nil {
			t.Fatalf("page: %v", err)
		}
		return objs, r.header.Get("x-total-count")
	}
	all := s.LandscapeObjects()
	s.SetFaults(Faults{RepeatPage: true})
	p0, _ := page(0)
	p1, _ := page(4)
	if len(p1) != 4 || p1[0] != p0[0] {
		t.Errorf("RepeatPage: offset 4 starts with %v", p1)
	}
	s.SetFaults(Faults{IgnoreLimit: true})
	if p, total := page(4); len(p) != len(all) || total != strconv.Itoa(len(all)) {
		t.Errorf("IgnoreLimit: %d objects, total %s", len(p), total)
	}
	s.SetFaults(Faults{GrowTotal: true})
	last := 0
	for off := 0; off < 10*len(all); off += 4 {
		p, total := page(off)
		n, _ := strconv.Atoi(total)
		if len(p) != 4 || n <= off+4 || n <= last {
			t.Fatalf("GrowTotal at offset %d: %d objects, total %d after %d", off, len(p), n, last)
		}
		last = n
	}
}

func TestFaultGarbled(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	s.SetFaults(Faults{Garbled: true})
	for _, path := range []string{providersPath, metricsPath} {
		r := get(t, s, tok, path, metricsQuery("hm", wFrom, wTo))
		if r.status != 200 || len(r.body) == 0 || json.Valid(r.body) {
			t.Errorf("%s garbled: %d, %d bytes, valid JSON %v", path, r.status, len(r.body), json.Valid(r.body))
		}
	}
}
