package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// File appends each batch as NDJSON lines to a local file and fsyncs before Write returns.
type File struct {
	path string
	mu   sync.Mutex
	f    *os.File
	buf  []byte
	// regular is false for a device, pipe or socket (/dev/null, a FIFO, /dev/stdout): such a
	// file cannot be fsynced or cut back, and needs neither.
	regular bool
}

// OpenFile opens (creating with mode 0644, and its directory with 0755) the file at path for
// appending. A last line without its newline — left by a process killed in the middle of a
// write — is cut off first: its window was not checkpointed, so it is delivered again whole.
func OpenFile(path string) (*File, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // G301: records are meant to be read by others
			return nil, fmt.Errorf("file sink %s: create directory: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644) //nolint:gosec // G302: records hold no secret and are meant to be read
	if err != nil {
		return nil, fmt.Errorf("file sink %s: %w", path, err)
	}
	if err := cutTornLine(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("file sink %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("file sink %s: %w", path, err)
	}
	return &File{path: path, f: f, regular: fi.Mode().IsRegular()}, nil
}

// cutTornLine truncates f after its last newline when it does not end with one.
func cutTornLine(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 || !fi.Mode().IsRegular() {
		return err
	}
	r, err := os.Open(f.Name())
	if err != nil {
		return err
	}
	defer r.Close()
	size := fi.Size()
	var last [1]byte
	if _, err := r.ReadAt(last[:], size-1); err != nil {
		return fmt.Errorf("read the last byte: %w", err)
	}
	if last[0] == '\n' {
		return nil
	}
	// Scan back in blocks for the last newline; no newline at all means the whole file is torn.
	const block = 64 << 10
	buf := make([]byte, block)
	end := size
	for end > 0 {
		start := max(end-block, 0)
		n, err := r.ReadAt(buf[:end-start], start)
		if err != nil && n < int(end-start) {
			return fmt.Errorf("find the last complete line: %w", err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return truncate(f, start+int64(i)+1, size)
		}
		end = start
	}
	return truncate(f, 0, size)
}

func truncate(f *os.File, to, from int64) error {
	if err := f.Truncate(to); err != nil {
		return fmt.Errorf("cut a torn last line (%d bytes): %w", from-to, err)
	}
	return f.Sync()
}

// Name returns "file:" and the path.
func (s *File) Name() string { return "file:" + s.path }

// Write appends the batch's records and returns nil only after fsync. When the write or the
// fsync fails, the file is cut back to its size before the batch, so a retried batch does not
// follow a half-written line. An empty batch writes nothing.
func (s *File) Write(ctx context.Context, b Batch) error {
	if len(b.Series) == 0 {
		return nil
	}
	return s.appendLines(ctx, func(buf []byte) []byte { return appendNDJSON(buf, b) },
		fmt.Sprintf("%s/%s window %s", b.Tenant, b.Monitor, windowText(b)))
}

// appendLines appends the lines build appends to its buffer (what names them in an error),
// with Write's guarantees: fsynced, or cut back to the size before.
func (s *File) appendLines(ctx context.Context, build func([]byte) []byte, what string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", s.Name(), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return fmt.Errorf("%s: write after close", s.Name())
	}
	s.buf = build(s.buf[:0])
	if !s.regular {
		if _, err := s.f.Write(s.buf); err != nil {
			return fmt.Errorf("%s: append %s: %w", s.Name(), what, err)
		}
		return nil
	}
	fi, err := s.f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", s.Name(), err)
	}
	_, err = s.f.Write(s.buf)
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		err = fmt.Errorf("%s: append %s: %w", s.Name(), what, err)
		if terr := s.f.Truncate(fi.Size()); terr != nil {
			err = errors.Join(err, fmt.Errorf("%s: cut back the partial batch: %w", s.Name(), terr))
		}
		return err
	}
	return nil
}

// Close closes the file.
func (s *File) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return fmt.Errorf("%s: close: %w", s.Name(), err)
	}
	return nil
}
