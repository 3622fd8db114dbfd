package sink

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// Writer writes each batch as NDJSON lines to an io.Writer, in Write calls of about 64 KiB of
// whole lines, one batch at a time, so lines of concurrent batches never interleave and the
// buffer stays small whatever the batch (a window of a large landscape is megabytes of lines).
type Writer struct {
	// MaxLine, when positive, is the longest line written (without its newline): a record whose
	// line is longer is refused (Batch.Refuse) instead of reaching a destination that would cut it.
	MaxLine int

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
	if len(b.Series) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = s.buf[:0]
	var refused []Refused
	left := b.Len()
	for _, sr := range b.Series {
		for i := range sr.Points {
			left--
			start := len(s.buf)
			s.buf = sr.AppendJSON(s.buf, &sr.Points[i])
			if n := len(s.buf) - start; s.MaxLine > 0 && n > s.MaxLine {
				s.buf = s.buf[:start]
				rec := sr.Record(i)
				refused = append(refused, Refused{Record: &rec,
					Reason: fmt.Sprintf("the record's line is %d bytes, over the %d bytes a line of %s may have (CloudWatch Logs event limit)", n, s.MaxLine, s.name)})
			} else {
				s.buf = append(s.buf, '\n')
			}
			if len(s.buf) < writeChunk && left > 0 || len(s.buf) == 0 {
				continue
			}
			if _, err := s.w.Write(s.buf); err != nil {
				return fmt.Errorf("%s: write %s/%s window %s: %w", s.name, b.Tenant, b.Monitor, windowText(b), err)
			}
			s.buf = s.buf[:0]
		}
	}
	return b.KeepRefused(ctx, s.name, refused)
}

// CloudWatchLogsMaxLine is the longest stdout line the collect function writes: CloudWatch Logs
// takes events of at most 256 KiB counting 26 bytes of overhead (PutLogEvents; raised to 1 MB in
// 2025, kept at the lower figure that every Region documents), and Lambda ships each stdout line
// as one event.
const CloudWatchLogsMaxLine = 256<<10 - 26

// writeChunk is about how many bytes of lines Writer writes at once.
const writeChunk = 64 << 10

// Close does nothing: the writer belongs to the caller.
func (s *Writer) Close(context.Context) error { return nil }

func windowText(b Batch) string {
	return b.From.UTC().Format("2006-01-02T15:04:05Z") + "–" + b.To.UTC().Format("2006-01-02T15:04:05Z")
}
