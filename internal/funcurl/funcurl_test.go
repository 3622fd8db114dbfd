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
