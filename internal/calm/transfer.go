package calm

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
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

// The fair-use quota of API data (docs/transfer.md, "The quota as a budget").
const (
	// QuotaBytes is the 24 GB of outbound API data a month in a tenant's fair use; tenants can
	// buy more (the setting CALM_API_QUOTA_GB, calmctl test --quota-gb, the stack's apiQuotaGB).
	QuotaBytes int64 = 24_000_000_000
	// QuotaWarnShare is the share of the quota above which a projection warns: the connection
	// test's, and the collect function's month-to-date projection (a warning and the stack's
	// alarm).
	QuotaWarnShare = 0.5
)

// ParseQuotaGB reads the quota setting (CALM_API_QUOTA_GB): a positive number of gigabytes
// (10⁹ bytes) such as 24 or 48.5; "" is QuotaBytes. The error names the variable.
func ParseQuotaGB(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return QuotaBytes, nil
	}
	gb, err := strconv.ParseFloat(v, 64)
	if err != nil || gb <= 0 || math.IsInf(gb, 0) || gb > 1e9 {
		return 0, fmt.Errorf("CALM_API_QUOTA_GB: %q is not a positive number of gigabytes like 24 (the tenant's monthly API quota)", v)
	}
	return int64(gb * 1e9), nil
}
