package testkit

import (
	"context"
	"errors"
	"sync"
)

// ErrSinkFull is what a [MemSink] answers for a batch its Fail refuses.
var ErrSinkFull = errors.New("disk full")

// MemSink is a sink that keeps every batch it accepts; B is the batch type (sink.Batch: the
// type is a parameter so that testkit imports nothing of the house and every package's tests,
// the sink's included, can use it). Set Fail and After before the run that should see them (or
// between runs): they are not guarded against a run in progress.
type MemSink[B any] struct {
	// Fail, when set, refuses the batches it returns true for, with [ErrSinkFull].
	Fail func(B) bool
	// After, when set, runs after each accepted batch (outside the sink's lock).
	After func(B)

	mu      sync.Mutex
	batches []B
}

// Name is "mem".
func (s *MemSink[B]) Name() string { return "mem" }

// Write keeps b, or refuses it when Fail says so.
func (s *MemSink[B]) Write(_ context.Context, b B) error {
	s.mu.Lock()
	if s.Fail != nil && s.Fail(b) {
		s.mu.Unlock()
		return ErrSinkFull
	}
	s.batches = append(s.batches, b)
	after := s.After
	s.mu.Unlock()
	if after != nil {
		after(b)
	}
	return nil
}

// Close does nothing: a MemSink holds no resource.
func (s *MemSink[B]) Close(context.Context) error { return nil }

// Batches returns a copy of the batches accepted so far, in order.
func (s *MemSink[B]) Batches() []B {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]B(nil), s.batches...)
}
