package funcurl

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func TestRegion(t *testing.T) {
	for host, want := range map[string]string{
		"abc123.lambda-url.eu-central-1.on.aws": "eu-central-1",
		"127.0.0.1":                             "",
		"abc.lambda-url.on.aws":                 "",
	} {
		if got := Region(host); got != want {
			t.Errorf("Region(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestDoSigns(t *testing.T) {
	var got *http.Request
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, body = r, string(b)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := &Caller{
		AWS: aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI", "")},
		Now: func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) },
	}
	resp, err := c.Do(context.Background(), http.MethodPost, srv.URL+"/?save=true", []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	auth := got.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/lambda/aws4_request") {
		t.Errorf("Authorization = %q, want a SigV4 signature for lambda in us-east-1", auth)
	}
	if got.Header.Get("X-Amz-Date") != "20261125T100000Z" || got.Header.Get("X-Amz-Content-Sha256") == "" {
		t.Errorf("signing headers missing: %v", got.Header)
	}
	if body != `{"a":1}` || got.URL.Query().Get("save") != "true" {
		t.Errorf("request = %s %q, want the body and query passed through", got.URL, body)
	}
	if strings.Contains(auth, "wJalrXUtnFEMI") {
		t.Error("the secret access key is in the Authorization header")
	}
}

func TestDoNeedsRegionAndCredentials(t *testing.T) {
	c := &Caller{}
	if _, err := c.Do(context.Background(), http.MethodGet, "http://127.0.0.1:1/", nil); err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Errorf("without a region: %v", err)
	}
	c.AWS.Region = "us-east-1"
	if _, err := c.Do(context.Background(), http.MethodGet, "http://127.0.0.1:1/", nil); err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("without credentials: %v", err)
	}
	if _, err := c.Do(context.Background(), http.MethodGet, "ftp://x", nil); err == nil || !strings.Contains(err.Error(), "is not a URL") {
		t.Errorf("bad URL: %v", err)
	}
}

func TestNotAReport(t *testing.T) {
	long := strings.Repeat("x", 400)
	for _, tc := range []struct {
		status int
		answer string
		want   string
	}{
		{502, `{"error":"bad settings","checks":null}`, "HTTP 502: bad settings"},
		{403, `{"Message":"Forbidden"}`, "HTTP 403: Forbidden (the function URL uses IAM auth: your credentials need lambda:InvokeFunctionUrl on the function)"},
		{500, " Internal Server Error\n", "HTTP 500: Internal Server Error"},
		{200, "", "HTTP 200: an empty answer, not a connection test report"},
		{504, long, "HTTP 504: " + long[:300] + "…"},
	} {
		if got := NotAReport(tc.status, []byte(tc.answer)); got != tc.want {
			t.Errorf("NotAReport(%d, %.20q) = %q\nwant %q", tc.status, tc.answer, got, tc.want)
		}
	}
}
