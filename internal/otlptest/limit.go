package otlptest

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/calm-collector/calm-collector/internal/testkit"
)

// Limited is an HTTP front before a Receiver that answers 413 Request Entity Too Large to every
// export request whose body, decompressed, is larger than MaxBytes, as a backend with a request
// size limit does; the others reach the receiver.
type Limited struct {
	// Endpoint is the front's base URL, used like Receiver.Endpoint.
	Endpoint string
	MaxBytes int
	// TooLarge counts the requests answered 413.
	TooLarge atomic.Int64
}

// WithLimit starts a Limited front before r with the limit maxBytes (stopped when the test ends).
func (r *Receiver) WithLimit(t testing.TB, maxBytes int) *Limited {
	t.Helper()
	l := &Limited{MaxBytes: maxBytes}
	l.Endpoint = testkit.CheckingFront(t, r.Endpoint, func(w http.ResponseWriter, req *http.Request, body []byte) bool {
		size := len(body)
		if req.Header.Get("Content-Encoding") == "gzip" {
			if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
				n, _ := io.Copy(io.Discard, io.LimitReader(zr, int64(l.MaxBytes)+1)) // enough to know it is over
				size = int(n)
			}
		}
		if size <= l.MaxBytes {
			return false
		}
		l.TooLarge.Add(1)
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return true
	})
	return l
}
