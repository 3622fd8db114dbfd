package sink

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/calm-collector/calm-collector/internal/record"
)

// Writer writes each batch as NDJSON lines to an io.Writer, in Write calls of about 64 KiB of
// whole lines, one batch at a time, so lines of concurrent batches never interleave and the
// buffer stays small whatever the batch (a window of a large landscape is megabytes of lines).
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
	s.buf = s.buf[:0]
	var enc record.Encoder
	for i := range b.Records {
		s.buf = append(enc.AppendJSON(s.buf, &b.Records[i]), '\n')
		if len(s.buf) < writeChunk && i < len(b.Records)-1 {
			continue
		}
		if _, err := s.w.Write(s.buf); err != nil {
			return fmt.Errorf("%s: write %s/%s window %s: %w", s.name, b.Tenant, b.Monitor, windowText(b), err)
		}
		s.buf = s.buf[:0]
	}
	return nil
}

// writeChunk is about how many bytes of lines Writer writes at once.
const writeChunk = 64 << 10

// Close does nothing: the writer belongs to the caller.
func (s *Writer) Close(context.Context) error { return nil }

func windowText(b Batch) string {
	return b.From.UTC().Format("2006-01-02T15:04:05Z") + "–" + b.To.UTC().Format("2006-01-02T15:04:05Z")
}
