package calm

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func gzipped(t *testing.T, b []byte) []byte {
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

// TestGzipNegotiated: every API call asks for gzip; a gzip'd answer is read as the plain one,
// and the bytes on the wire and decoded are both counted, in Stats and in the ctx's Counts.
func TestGzipNegotiated(t *testing.T) {
	tn := newTenant(t)
	plain := readTestdata(t, "providers.json")
	zipped := gzipped(t, plain)
	tn.mux.HandleFunc("GET "+providersPath, func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Accept-Encoding"); got != "gzip" {
			t.Errorf("Accept-Encoding = %q, want gzip", got)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(zipped)
	})
	c := tn.client(nil)
	var bc Counts
	got, err := c.Counting(&bc).Providers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, err := tn.client(nil).Providers(context.Background()) // the same answer, read once more
	if err != nil || len(got) == 0 || len(got) != len(want) {
		t.Fatalf("providers = %d, want %d (%v)", len(got), len(want), err)
	}
	s := c.Stats()
	if s.BytesWire != int64(len(zipped)) || s.BytesRead != int64(len(plain)) {
		t.Errorf("stats wire %d decoded %d, want %d and %d", s.BytesWire, s.BytesRead, len(zipped), len(plain))
	}
	if bc.Wire.Load() != int64(len(zipped)) || bc.Decoded.Load() != int64(len(plain)) {
		t.Errorf("byte count wire %d decoded %d, want %d and %d", bc.Wire.Load(), bc.Decoded.Load(), len(zipped), len(plain))
	}
	if len(zipped) >= len(plain) {
		t.Errorf("test data does not compress: %d >= %d", len(zipped), len(plain))
	}
}

// TestGzipBombBounded: an answer that inflates far beyond MaxBodyBytes fails without
// being held, and is not retried.
func TestGzipBombBounded(t *testing.T) {
	tn := newTenant(t)
	bomb := gzipped(t, bytes.Repeat([]byte{' '}, 8<<20)) // 8 MiB of spaces in a few kB
	tn.mux.HandleFunc("GET "+providersPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	})
	c := tn.client(func(o *Options) { o.MaxBodyBytes = 1 << 20 })
	_, err := c.Providers(context.Background())
	if err == nil || !strings.Contains(err.Error(), "answer is larger than 1048576 bytes (MaxBodyBytes), counted decompressed") {
		t.Fatalf("err = %v, want the decompressed bound named", err)
	}
	s := c.Stats()
	if s.Requests != 1 || s.Retries != 0 || s.BytesRead != 1<<20+1 || s.BytesWire >= int64(len(bomb))+1 {
		t.Errorf("stats %+v: want one request, no retry, %d bytes decoded at most, the wire bytes counted", s, 1<<20+1)
	}
}

// TestContentEncodings: an unasked encoding fails without retries and names it; a corrupt
// gzip stream is retried like a cut connection; an error answer in gzip keeps its message.
func TestContentEncodings(t *testing.T) {
	t.Run("brotli", func(t *testing.T) {
		tn := newTenant(t)
		tn.mux.Handle("GET "+providersPath, status(200, map[string]string{"Content-Encoding": "br"}, "xx"))
		c := tn.client(nil)
		_, err := c.Providers(context.Background())
		if !errors.Is(err, errEncoding) || !strings.Contains(err.Error(), `"br"`) || c.Stats().Requests != 1 {
			t.Errorf("err = %v, requests %d; want errEncoding naming br after one request", err, c.Stats().Requests)
		}
	})
	t.Run("corrupt", func(t *testing.T) {
		tn := newTenant(t)
		plain := readTestdata(t, "providers.json")
		bad := gzipped(t, plain)
		bad[len(bad)-5] ^= 0xff // the CRC
		calls := 0
		tn.mux.HandleFunc("GET "+providersPath, func(w http.ResponseWriter, r *http.Request) {
			calls++
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			if calls == 1 {
				w.Write(bad)
				return
			}
			w.Write(gzipped(t, plain))
		})
		c := tn.client(nil)
		if _, err := c.Providers(context.Background()); err != nil || calls != 2 || c.Stats().Retries != 1 {
			t.Errorf("err %v after %d calls (stats %+v); want success on the retry", err, calls, c.Stats())
		}
	})
	t.Run("gzip error answer", func(t *testing.T) {
		tn := newTenant(t)
		body := gzipped(t, []byte(`{"error":"Bad Request","message":"parameter format is wrong"}`))
		tn.mux.HandleFunc("GET "+providersPath, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.WriteHeader(400)
			w.Write(body)
		})
		_, err := tn.client(nil).Providers(context.Background())
		var ae *APIError
		if !errors.As(err, &ae) || ae.Message != "Bad Request: parameter format is wrong" {
			t.Errorf("err = %v, want the gzip'd message read", err)
		}
	})
}
