package calm

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// ByteCount adds up the API answers of the calls made with a context from CountBytes: Wire is
// what came over the network (compressed when the server sent gzip), Decoded the same bodies
// after decompression. The fair-use quota of a tenant counts the former.
type ByteCount struct{ Wire, Decoded atomic.Int64 }

type byteCountKey struct{}

// CountBytes returns a context whose API calls add their answers' sizes to bc (as well as to
// the client's Stats). A collect run gives each monitor its own.
func CountBytes(ctx context.Context, bc *ByteCount) context.Context {
	return context.WithValue(ctx, byteCountKey{}, bc)
}

// errBodyTooLarge is an answer larger than the bound readBody was given, decompressed.
var errBodyTooLarge = errors.New("answer too large")

// errEncoding is an answer in a Content-Encoding the client did not ask for: not retried,
// since the same server sends the same again.
var errEncoding = errors.New("unsupported Content-Encoding")

// readBody reads resp's body, decompressing gzip, and fails with errBodyTooLarge past max
// bytes decompressed. The compressed bytes are bounded by max too, and decompression stops
// at max+1 bytes, so an answer that inflates far beyond its size is never held (at most
// max+1 bytes are). Both sizes are counted in the client's Stats and in the ctx's ByteCount,
// also when reading fails. A read error (a connection cut, a broken gzip stream) is returned
// as it is, for the caller to retry.
func (c *Client) readBody(ctx context.Context, resp *http.Response, max int64) (b []byte, err error) {
	wire := &countingReader{r: io.LimitReader(resp.Body, max+1)}
	defer func() { c.countBytes(ctx, wire.n, int64(len(b))) }()
	var src io.Reader = wire
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(wire)
		switch {
		case errors.Is(err, io.EOF): // an empty body
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("gzip answer: %w", err)
		}
		src = zr
	default:
		return nil, fmt.Errorf("%w %q: the client asks for gzip and reads gzip or none", errEncoding, enc)
	}
	b, err = io.ReadAll(io.LimitReader(src, max+1))
	if int64(len(b)) > max || wire.n > max {
		return b, errBodyTooLarge
	}
	if err != nil && src != io.Reader(wire) {
		err = fmt.Errorf("gzip answer: %w", err)
	}
	return b, err
}

func (c *Client) countBytes(ctx context.Context, wire, decoded int64) {
	c.bytesWire.Add(wire)
	c.bytesRead.Add(decoded)
	if bc, _ := ctx.Value(byteCountKey{}).(*ByteCount); bc != nil {
		bc.Wire.Add(wire)
		bc.Decoded.Add(decoded)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
