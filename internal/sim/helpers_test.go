package sim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/testkit"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

var t0 = time.Date(2026, 11, 25, 10, 2, 30, 0, time.UTC)

// start runs a simulator with a clock at t0.
func start(t *testing.T, cfg Config) (*Server, *testkit.Clock) {
	t.Helper()
	c := testkit.NewClock(t0)
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	return StartTest(t, cfg), c
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) String() string { return fmt.Sprintf("HTTP %d %s", r.status, r.body) }

// plainClient does not ask for gzip (Go's default transport would, and unzip transparently):
// the tests see the bodies and sizes as served; gzip_test.go asks for gzip itself.
var plainClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func do(t *testing.T, req *http.Request) resp {
	t.Helper()
	res, err := plainClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read %s: %v", req.URL.Path, err)
	}
	return resp{res.StatusCode, res.Header, b}
}

func tokenRequest(t *testing.T, s *Server, form url.Values) resp {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.TokenURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func credentials(s *Server) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {s.cfg.ClientID}, "client_secret": {s.cfg.ClientSecret}}
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	JTI         string `json:"jti"`
}

func token(t *testing.T, s *Server) string {
	t.Helper()
	r := tokenRequest(t, s, credentials(s))
	if r.status != http.StatusOK {
		t.Fatalf("token: %v", r)
	}
	var tr tokenResponse
	if err := json.Unmarshal(r.body, &tr); err != nil {
		t.Fatalf("token body: %v", err)
	}
	return tr.AccessToken
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("token payload: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("token payload: %v", err)
	}
	return m
}

func get(t *testing.T, s *Server, tok, path string, q url.Values) resp {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	req.URL.RawQuery = q.Encode()
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return do(t, req)
}

const metricsPath = "/api/calm-metrics/v1/metrics"

func metricsQuery(provider string, from, to time.Time) url.Values {
	return url.Values{
		"version": {"V1"}, "provider": {provider}, "from": {from.Format(TimeLayout)}, "to": {to.Format(TimeLayout)},
		"resolution": {"5Mi"}, "format": {"protobuf-json"}, "preserveTimeStamp": {"true"},
	}
}

func decodeMetrics(t *testing.T, b []byte) pmetric.Metrics {
	t.Helper()
	md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(b)
	if err != nil {
		t.Fatalf("decode OTLP JSON: %v\n%.300s", err, b)
	}
	return md
}

// flat is one data point reduced to comparable text.
type flat struct {
	name  string
	attrs string // merged, sorted
	time  time.Time
	value float64
	sum   bool
}

func (f flat) String() string {
	return fmt.Sprintf("%s{%s}@%s=%g", f.name, f.attrs, f.time.Format(time.RFC3339), f.value)
}

func attrString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s,", k, m[k])
	}
	return b.String()
}

func flatten(md pmetric.Metrics) []flat {
	var out []flat
	for _, rm := range md.ResourceMetrics().All() {
		res := map[string]string{}
		for k, v := range rm.Resource().Attributes().All() {
			res[k] = v.AsString()
		}
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				var dps pmetric.NumberDataPointSlice
				sum := false
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					dps = m.Gauge().DataPoints()
				case pmetric.MetricTypeSum:
					dps, sum = m.Sum().DataPoints(), true
				default:
					panic("unexpected metric type " + m.Type().String())
				}
				for _, dp := range dps.All() {
					attrs := map[string]string{}
					for k, v := range res {
						attrs[k] = v
					}
					for k, v := range dp.Attributes().All() {
						attrs[k] = v.AsString()
					}
					v := dp.DoubleValue()
					if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
						v = float64(dp.IntValue())
					}
					out = append(out, flat{m.Name(), attrString(attrs), dp.Timestamp().AsTime().UTC(), v, sum})
				}
			}
		}
	}
	return out
}

func flattenPoints(pts []Point) []flat {
	out := make([]flat, len(pts))
	for i, p := range pts {
		out[i] = flat{p.Metric, attrString(p.Merged()), p.Time.UTC(), p.Value, p.Sum}
	}
	return out
}

func equalFlat(t *testing.T, what string, got, want []flat) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d points, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: point %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}
