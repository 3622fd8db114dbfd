package sink

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// Writer writes each batch as NDJSON lines to an io.Writer with one Write call, so lines of
// concurrent batches never interleave.
type Writer struct {
	name string
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
}

// NewWriter returns a sink writing to w under name (e.g. "stdout"). Close does not close w.
func NewWriter(name string, w io.Writer) *Writer {
	return &Writer{name: name, w: w}
}

// Name returns the name given to NewWriter.
func (s *Writer) Name() string { return s.name }

// Write writes the batch's records; an empty batch writes nothing.
func (s *Writer) Write(ctx context.Context, b Batch) error {
	if len(b.Records) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = appendNDJSON(s.buf[:0], b)
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("%s: write %s/%s window %s: %w", s.name, b.Tenant, b.Monitor, windowText(b), err)
	}
	return nil
}

// Close does nothing: the writer belongs to the caller.
func (s *Writer) Close(context.Context) error { return nil }

func windowText(b Batch) string {
	return b.From.UTC().Format("2006-01-02T15:04:05Z") + "–" + b.To.UTC().Format("2006-01-02T15:04:05Z")
}
