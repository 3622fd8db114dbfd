package sim

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/transcript"
)

// A replay issues the recorded (redacted) token and accepts only it, answers a recorded request
// with the recorded bytes (a gzip'd body stays the bytes that came) whatever the order of its
// parameters, and answers a request it does not hold with 404 naming the nearest recorded one.
func TestReplayServesTheTranscript(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tr")
	rec, err := transcript.Create(dir, transcript.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tokReq := httptest.NewRequest("POST", "http://a/oauth/token", nil)
	tokReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec.Record(transcript.Raw{To: transcript.ToAuth, Request: tokReq, RequestBody: []byte("grant_type=client_credentials&client_secret=s3cr3t-value"),
		Response:     &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}},
		ResponseBody: []byte(`{"access_token":"real-token-value","token_type":"bearer","expires_in":43199}`)})
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	if _, err := zw.Write([]byte(`{"resourceMetrics":[]}`)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	apiReq := httptest.NewRequest("GET", "http://a/api/calm-metrics/v1/metrics?provider=hm&offset=0&limit=10", nil)
	apiReq.Header.Set("Authorization", "Bearer real-token-value")
	rec.Record(transcript.Raw{To: transcript.ToAPI, Request: apiReq,
		Response:     &http.Response{StatusCode: 200, Header: http.Header{"Content-Encoding": {"gzip"}, "X-Total-Count": {"0"}}},
		ResponseBody: zipped.Bytes()})
	if err := rec.Close(transcript.Meta{Command: "test"}); err != nil {
		t.Fatal(err)
	}
	tr, err := transcript.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewReplay(tr, nil))
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/oauth/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials&client_secret=other"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"access_token":"redacted-token-1"`) {
		t.Fatalf("token answer %d %s; want the recorded answer with its placeholder token", resp.StatusCode, body)
	}

	get := func(query, token string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", srv.URL+"/api/calm-metrics/v1/metrics?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept-Encoding", "gzip") // the raw bytes, as the collector reads them
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	if resp, _ := get("limit=10&offset=0&provider=hm", "real-token-value"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the recorded run's real token: %d; want 401 (the replay accepts only the tokens it issues)", resp.StatusCode)
	}
	resp, b := get("limit=10&offset=0&provider=hm", "redacted-token-1")
	if resp.StatusCode != 200 || !bytes.Equal(b, zipped.Bytes()) || resp.Header.Get("X-Total-Count") != "0" || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("recorded request: %d %q %v; want the recorded gzip bytes and headers", resp.StatusCode, b, resp.Header)
	}
	resp, b = get("limit=10&offset=10&provider=hm", "redacted-token-1")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "offset=10 (recorded 0)") || !strings.Contains(string(b), "Not Recorded") {
		t.Errorf("unrecorded request: %d %s; want 404 naming the nearest recorded request", resp.StatusCode, b)
	}
}
