package transcript

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func answer(status int, header http.Header) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: header}
}

// Every redaction rule, each on the part of an exchange it guards: no secret, token,
// Authorization value, PEM block or listed service name is left in any reading of any file, and
// what replaces them keeps a replay working (one placeholder per token, the same in the answer
// and in Authorization; pseudonyms of the same length, so a protobuf body keeps its framing).
func TestRecorderRedactsEverySecret(t *testing.T) {
	const secret, name = "s3cr3t&value!", "S4H.100"
	enc := base64.RawURLEncoding
	token := enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + enc.EncodeToString([]byte(`{"scope":["x.calm-api.hm.read"],"sub":"c"}`)) + ".c2lnbmF0dXJl"
	pem := "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
	dir := filepath.Join(t.TempDir(), "tr")
	rec, err := Create(dir, Options{Secrets: []string{secret}, Services: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	form := "client_id=sb-x%21b1&client_secret=" + url.QueryEscape(secret) + "&grant_type=client_credentials"
	tokReq, _ := http.NewRequest("POST", "https://auth.example/oauth/token", nil)
	tokReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tokReq.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("sb-x!b1:"+secret)))
	rec.Record(Raw{To: ToAuth, Request: tokReq, RequestBody: []byte(form), Response: answer(200, http.Header{"Set-Cookie": {"JSESSIONID=abcdef123456"}}),
		ResponseBody: []byte(`{"access_token":"` + token + `","refresh_token":"r3fr3sh-t0ken","expires_in":43199}`)})

	apiReq, _ := http.NewRequest("GET", "https://t.example/api/bsm-service/v1/events?serviceName="+url.QueryEscape(name)+"&limit=10", nil)
	apiReq.Header.Set("Authorization", "Bearer "+token)
	echo := gz(t, []byte(`{"error":"x","message":"token `+token+` for `+name+`; `+pem+`"}`))
	rec.Record(Raw{To: ToAPI, Request: apiReq, Response: answer(500, http.Header{"Content-Encoding": {"gzip"}}), ResponseBody: echo})

	// A protobuf-like binary body, gzip'd, holding the name as a length-prefixed string.
	proto := append([]byte{0x0a, byte(len(name))}, name...)
	proto = append(proto, 0x10, 0x01, 0xff, 0x00)
	binReq, _ := http.NewRequest("GET", "https://t.example/api/calm-metrics/v1/metrics?format=protobuf-binary", nil)
	binReq.Header.Set("Authorization", "Bearer unknown-token-value")
	rec.Record(Raw{To: ToAPI, Request: binReq, Response: answer(200, http.Header{"Content-Encoding": {"gzip"}}), ResponseBody: gz(t, proto), Err: errors.New("cut")})
	if err := rec.Close(Meta{Command: "test"}); err != nil {
		t.Fatal(err)
	}

	forbidden := []string{secret, url.QueryEscape(secret), token, "r3fr3sh-t0ken", "c2lnbmF0dXJl", "JSESSIONID=abcdef123456",
		base64.StdEncoding.EncodeToString([]byte("sb-x!b1:" + secret)), "unknown-token-value", name, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		for _, text := range Decoded(raw) {
			for _, v := range forbidden {
				if strings.Contains(text, v) {
					t.Errorf("%s holds %q", filepath.Base(f), v)
				}
			}
		}
	}

	tr, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Exchanges) != 3 {
		t.Fatalf("%d exchanges; want 3", len(tr.Exchanges))
	}
	tokAnswer, _ := tr.Exchanges[0].ResponseBody.Bytes()
	ph := between(string(tokAnswer), `"access_token":"`, `"`)
	if got := tr.Exchanges[1].RequestHeader.Get("Authorization"); got != "Bearer "+ph || ph == "" {
		t.Errorf("Authorization %q; want Bearer and the token answer's placeholder %q", got, ph)
	}
	if got := ScopeClaim(ph); string(got) != `["x.calm-api.hm.read"]` {
		t.Errorf("placeholder %q carries scope %s; want the token's scope claim", ph, got)
	}
	if tr.Exchanges[1].Rewritten != "secret" || tr.Exchanges[1].ResponseHeader.Get("Content-Encoding") != "" {
		t.Errorf("an answer echoing the token: rewritten %q, encoding %q; want stored decoded, marked secret",
			tr.Exchanges[1].Rewritten, tr.Exchanges[1].ResponseHeader.Get("Content-Encoding"))
	}
	if !strings.Contains(tr.Exchanges[1].Query, "serviceName=svc") {
		t.Errorf("query %q: want the name's pseudonym", tr.Exchanges[1].Query)
	}
	bin, _ := tr.Exchanges[2].ResponseBody.Bytes()
	zr, err := gzip.NewReader(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("binary answer is no longer gzip: %v", err)
	}
	plain, _ := io.ReadAll(zr)
	if len(plain) != len(proto) || plain[1] != byte(len(name)) || !strings.HasPrefix(string(plain[2:]), "svc") ||
		tr.Exchanges[2].Rewritten != "service names" || tr.Exchanges[2].Error != "cut" {
		t.Errorf("binary answer %q (rewritten %q, error %q); want the same framing with the pseudonym", plain, tr.Exchanges[2].Rewritten, tr.Exchanges[2].Error)
	}
	if got := tr.Exchanges[2].RequestHeader.Get("Authorization"); got != "Bearer "+Redacted {
		t.Errorf("Authorization with a token never issued: %q; want it redacted", got)
	}
}

func between(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, to)
	return v
}

// A replay matches a request whatever the order of its parameters, serves repeated requests in
// recorded order, and names the nearest recorded request for one it does not hold.
func TestIndexMatchesAndNamesTheNearest(t *testing.T) {
	tr := &Transcript{Exchanges: []Exchange{
		{To: ToAPI, Method: "GET", Path: "/api/m", Query: "a=1&b=2&offset=0", Status: 200, ResponseBody: NewBody([]byte("first"))},
		{To: ToAPI, Method: "GET", Path: "/api/m", Query: "b=2&a=1&offset=0", Status: 200, ResponseBody: NewBody([]byte("second"))},
		{To: ToAPI, Method: "GET", Path: "/api/m", Query: "a=1&b=2&offset=5", Status: 200},
		{To: ToAuth, Method: "POST", Path: "/oauth/token", RequestBody: NewBody([]byte("client_secret=[redacted]")), Status: 200},
	}}
	ix := NewIndex(tr)
	k := KeyOf(ToAPI, "GET", "/api/m", "offset=0&b=2&a=1", nil)
	for _, want := range []string{"first", "second", "second"} {
		b, _ := ix.Next(k).ResponseBody.Bytes()
		if string(b) != want {
			t.Errorf("answer %q; want %q", b, want)
		}
	}
	if ix.Next(KeyOf(ToAuth, "POST", "/oauth/token", "", []byte("client_secret=other"))) == nil {
		t.Error("a token request with other credentials found no answer; the token endpoint matches by method and path")
	}
	miss := KeyOf(ToAPI, "GET", "/api/m", "a=1&b=2&offset=10", nil)
	if ix.Next(miss) != nil {
		t.Fatal("offset=10 was never recorded")
	}
	if near := ix.Nearest(miss); !strings.Contains(near, "offset=10 (recorded 0)") && !strings.Contains(near, "offset=10 (recorded 5)") {
		t.Errorf("nearest %q; want the recorded request and how its offset differs", near)
	}
	if u := ix.Unserved(); len(u) != 1 || !strings.Contains(u[0], "offset=5") {
		t.Errorf("unserved %q; want the offset=5 page", u)
	}
}
