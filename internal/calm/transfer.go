package calm

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Counts adds up the API calls made with a client from Client.Counting: the requests sent
// (every attempt, a page asked ahead and then not needed included), the retries among them, the
// 429 answers, and the answers' bodies: Wire as they came over the network (compressed when the
// server sent gzip), Decoded the same after decompression. The fair-use quota of a tenant
// counts Wire. Token requests are not API calls. The client keeps the same counts over its
// life (Stats): the one place requests are counted.
type Counts struct{ Requests, Retries, Throttled, Wire, Decoded atomic.Int64 }

// count applies add to the client's counts and to those of Counting, if any.
func (c *Client) count(add func(*Counts)) {
	add(&c.total)
	if c.counts != nil {
		add(c.counts)
	}
}

// errBodyTooLarge is an answer larger than the bound readBody was given, decompressed.
var errBodyTooLarge = errors.New("answer too large")

// errEncoding is an answer in a Content-Encoding the client did not ask for: not retried,
// since the same server sends the same again.
var errEncoding = errors.New("unsupported Content-Encoding")

// readBody reads resp's body, decompressing gzip, and fails with errBodyTooLarge past max
// bytes decompressed. The compressed bytes are bounded by max too, and decompression stops
// at max+1 bytes, so an answer that inflates far beyond its size is never held (at most
// max+1 bytes are). Both sizes are counted in the client's Stats and Counts,
// also when reading fails. A read error (a connection cut, a broken gzip stream) is returned
// as it is, for the caller to retry. zipped is the body as it came when it came gzip'd (nil
// otherwise): a caller that holds the answer a while may keep that instead, and inflate it
// again when it needs it.
func (c *Client) readBody(resp *http.Response, max int64) (b, zipped []byte, err error) {
	wire := &countingReader{r: io.LimitReader(resp.Body, max+1)}
	defer func() { c.count(func(n *Counts) { n.Wire.Add(wire.n); n.Decoded.Add(int64(len(b))) }) }()
	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	if enc != "" && enc != "identity" && enc != "gzip" && enc != "x-gzip" {
		return nil, nil, fmt.Errorf("%w %q: the client asks for gzip and reads gzip or none", errEncoding, enc)
	}
	b, err = readSized(wire, resp.ContentLength, max)
	if wire.n > max {
		return b, nil, errBodyTooLarge
	}
	if err != nil || enc == "" || enc == "identity" {
		return b, nil, err
	}
	if len(b) == 0 { // an empty body
		return nil, nil, nil
	}
	zipped = b
	b, err = inflate(zipped, max)
	return b, zipped, err
}

// inflate decompresses a gzip body, failing with errBodyTooLarge past max bytes.
func inflate(zipped []byte, max int64) ([]byte, error) {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	if zr == nil {
		zr = new(gzip.Reader)
	}
	defer gzipReaders.Put(zr)
	if err := zr.Reset(bytes.NewReader(zipped)); err != nil {
		return nil, fmt.Errorf("gzip answer: %w", err)
	}
	b, err := readSized(zr, gzipSize(zipped), max)
	if int64(len(b)) > max {
		return b, errBodyTooLarge
	}
	if err != nil {
		err = fmt.Errorf("gzip answer: %w", err)
	}
	return b, err
}

// gzipReaders keeps gzip readers (each holds tens of kilobytes of tables) for the next answer.
var gzipReaders sync.Pool

// readSized reads r to its end, at most max+1 bytes, into a buffer of size+1 when size (a
// Content-Length, a gzip trailer's size) is known: the usual answer is read without growing
// a buffer, and the buffer is no larger than it. A wrong size only costs growing.
func readSized(r io.Reader, size, max int64) ([]byte, error) {
	n := int64(512)
	if size >= 0 {
		n = min(size, max) + 1 // + 1: room to see the end without growing
	}
	b := make([]byte, 0, n)
	r = io.LimitReader(r, max+1)
	for {
		if len(b) == cap(b) {
			if int64(len(b)) > max {
				return b, nil // max+1 bytes: too large, and no byte more is held
			}
			b = slices.Grow(b, int(min(int64(cap(b)), max+1-int64(len(b))))) // double, up to max+1
		}
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// gzipSize is the size a gzip stream says its (last) member decompresses to: its trailer's
// ISIZE; -1 when it is too short to have one. Only a hint: readSized bounds what is read.
func gzipSize(z []byte) int64 {
	if len(z) < 18 {
		return -1
	}
	return int64(binary.LittleEndian.Uint32(z[len(z)-4:]))
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
