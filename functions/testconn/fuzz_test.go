package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/secrets"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// fuzzStoredSecret is the client secret of the stored connector (never to be echoed).
const fuzzStoredSecret = "stored-secret-never-echoed-8812"

// FuzzHandle: whatever the function URL receives (method, query, body, base64 flag, headers),
// the handler answers with a JSON body and a status below 500, and neither the answer nor the
// logs hold a client secret (the stored one or one in the body).
func FuzzHandle(f *testing.F) {
	dir := f.TempDir()
	stored := filepath.Join(dir, "stored.json")
	// The stored connector points at a host outside the allowlist of candidates, on a port
	// nothing listens on: its test fails fast without leaving the machine.
	if err := os.WriteFile(stored, []byte(`{"name":"stored","authenticationServer":"http://127.0.0.1:1","clientId":"sb-x!b1|calm!b2","clientSecret":"`+fuzzStoredSecret+`","url":"http://127.0.0.1:1"}`), 0o600); err != nil {
		f.Fatal(err)
	}
	allow, err := conntest.ParseAllowlist("", false)
	if err != nil {
		f.Fatal(err)
	}
	var logs bytes.Buffer
	h := &Handler{
		Stores:   map[string]Store{"": secrets.File(stored), "other": secrets.File(filepath.Join(dir, "missing.json"))},
		Allow:    allow,
		Monitors: []string{"hm"},
		Timeout:  200 * time.Millisecond,
		Logger:   slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	connector := `{"name":"c","authenticationServer":"https://sub.authentication.eu10.hana.ondemand.com","clientId":"sb-calm!b1|sapcloudalm!b2","clientSecret":"body-secret-0192837465","url":"https://t.eu10.alm.cloud.sap"}`
	for _, s := range []struct {
		method, query, body string
		b64                 bool
		header              string
	}{
		{"GET", "", "", false, ""},
		{"GET", "connector=other", "", false, "application/json"},
		{"POST", "", connector, false, "application/json"},
		{"POST", "save=true", `{"clientSecret":"body-secret-0192837465","url":"http://127.0.0.1:9/api"}`, false, "text/plain"},
		{"POST", "save=maybe&connector=%zz", "", false, ""},
		{"POST", "", base64.StdEncoding.EncodeToString([]byte(connector)), true, ""},
		{"POST", "", "!!!not base64", true, ""},
		{"PUT", "connector=nope", "[1]", false, ""},
		{"post", "", `{"uaa":{"clientsecret":"uaa-secret-55555555","url":"https://a.b"},"endpoints":{"Api":"https://x.alm.cloud.sap/api"}}`, false, ""},
	} {
		f.Add(s.method, s.query, s.body, s.b64, s.header)
	}
	f.Fuzz(func(t *testing.T, method, query, body string, b64 bool, header string) {
		logs.Reset()
		req := events.LambdaFunctionURLRequest{
			RawQueryString: query, Body: body, IsBase64Encoded: b64,
			Headers:        map[string]string{"content-type": header},
			RequestContext: events.LambdaFunctionURLRequestContext{HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: method}},
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := h.Handle(ctx, req)
		if err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		if !json.Valid([]byte(resp.Body)) {
			t.Fatalf("answer is not JSON: %s", resp.Body)
		}
		raw := []byte(body)
		if b64 {
			if d, err := base64.StdEncoding.DecodeString(body); err == nil {
				raw = d
			}
		}
		for _, secret := range append(testkit.SecretsIn(raw), fuzzStoredSecret) {
			if strings.Contains(resp.Body, secret) {
				t.Fatalf("the answer holds the secret %q: %s", secret, resp.Body)
			}
			if strings.Contains(logs.String(), secret) {
				t.Fatalf("the logs hold the secret %q", secret)
			}
		}
	})
}
