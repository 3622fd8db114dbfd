package sim

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"
)

// TestGzipWhenAsked: the API compresses an answer when the request accepts gzip (and counts
// the compressed bytes as served); without Accept-Encoding, or with NoGzip, it answers plain.
func TestGzipWhenAsked(t *testing.T) {
	fetch := func(t *testing.T, s *Server, tok, accept string) (http.Header, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.URL()+metricsPath, nil)
		req.URL.RawQuery = metricsQuery("hm", wFrom, wTo).Encode()
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept-Encoding", accept) // set by hand: no transparent decompression
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("HTTP %d %v", res.StatusCode, err)
		}
		return res.Header, b
	}
	s, _ := start(t, Config{})
	tok := token(t, s)
	before := s.BytesServed()
	h, zipped := fetch(t, s, tok, "deflate, gzip;q=0.8")
	if served := s.BytesServed() - before; h.Get("Content-Encoding") != "gzip" || served != int64(len(zipped)) {
		t.Fatalf("Content-Encoding %q, served %d for %d bytes", h.Get("Content-Encoding"), served, len(zipped))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	h, plain := fetch(t, s, tok, "identity")
	if h.Get("Content-Encoding") != "" || !bytes.Equal(plain, unzipped) {
		t.Errorf("plain answer (Content-Encoding %q) differs from the gzip'd one unzipped", h.Get("Content-Encoding"))
	}
	if len(zipped)*5 > len(plain) {
		t.Errorf("gzip'd %d bytes of %d: less than 5x smaller", len(zipped), len(plain))
	}
	if h, _ := fetch(t, s, tok, "gzip;q=0"); h.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 was answered with gzip")
	}

	off, _ := start(t, Config{NoGzip: true})
	if h, b := fetch(t, off, token(t, off), "gzip"); h.Get("Content-Encoding") != "" || !bytes.Equal(b, plain) {
		t.Errorf("NoGzip: Content-Encoding %q", h.Get("Content-Encoding"))
	}
}

func TestNoBinaryRefusesTheFormat(t *testing.T) {
	s, _ := start(t, Config{NoBinary: true})
	q := metricsQuery("hm", wFrom, wTo)
	q.Set("format", "protobuf-binary")
	if r := get(t, s, token(t, s), metricsPath, q); r.status != 400 || !bytes.Contains(r.body, []byte("protobuf-json")) {
		t.Errorf("%v, want 400 naming protobuf-json", r)
	}
}
