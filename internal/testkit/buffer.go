package testkit

import (
	"strings"
	"sync"
	"time"
)

// SyncBuffer is a log or output destination that a server's goroutines write while the test
// reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
	// grew, when set, is closed by the next Write (Await waits on it).
	grew chan struct{}
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grew != nil {
		close(s.grew)
		s.grew = nil
	}
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// awaitBound is how long Await waits for a writer that writes nothing more: generous, since
// only a broken writer meets it.
const awaitBound = 10 * time.Second

// Await waits until what has been written contains want, and returns it; ok is false when
// stop is closed first (the writer ended) or nothing matching came within a generous bound.
// It wakes on each Write, so a test waits for the output itself, not for a guessed time.
func (s *SyncBuffer) Await(stop <-chan struct{}, want string) (text string, ok bool) {
	bound := time.NewTimer(awaitBound)
	defer bound.Stop()
	for {
		s.mu.Lock()
		text = s.b.String()
		if strings.Contains(text, want) {
			s.mu.Unlock()
			return text, true
		}
		if s.grew == nil {
			s.grew = make(chan struct{})
		}
		grew := s.grew
		s.mu.Unlock()
		select {
		case <-grew:
		case <-stop:
			return s.String(), strings.Contains(s.String(), want)
		case <-bound.C:
			return text, false
		}
	}
}
