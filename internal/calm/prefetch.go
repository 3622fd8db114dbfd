package calm

import (
	"context"
	"errors"
)

// maxAhead is how many pages the pager's fetcher may have asked for beyond the page being
// decoded: with it, a decode and the caller's use of a page may take up to two answers' time
// before the network waits (docs/transfer.md).
const maxAhead = 2

// AnswersHeld is how many API answers one paged call holds at most at once: the page being
// decoded and the pages asked for ahead of it. A memory budget for answers divides by it
// (collect.PageLimit).
const AnswersHeld = 1 + maxAhead

// errPrefetchDiscarded is the cause given to the context of a request the pager sent ahead
// and then did not need; the client does not count its end as an error.
var errPrefetchDiscarded = errors.New("page requested ahead is not needed")

// fetcherPlan is what a fetcher asks for: the pages at from, from+limit, … one after the other,
// at most pages of them, while each answer is full (rows equal to limit), carries total and the
// next offset is below it. Any other answer, or an error, is its last.
type fetcherPlan struct {
	from, limit, total, pages int
}

// fetched is one answer of a fetcher, in the order asked.
type fetched[T any] struct {
	a   answer[T]
	err error
}

// fetcher asks for the pages of a plan in a goroutine, one request at a time, at most maxAhead
// answers ahead of the pager: its channel holds one answer and it holds the next one (or
// its request) until the pager takes the first.
type fetcher[T any] struct {
	next   int // offset of the answer the pager takes next
	limit  int
	out    chan fetched[T]
	cancel context.CancelCauseFunc
	done   chan struct{}
}

func startFetcher[T any](ctx context.Context, plan fetcherPlan, fetch fetchAnswer[T]) *fetcher[T] {
	fctx, cancel := context.WithCancelCause(ctx)
	f := &fetcher[T]{next: plan.from, limit: plan.limit, out: make(chan fetched[T], maxAhead-1), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		defer close(f.out)
		for i, off := 0, plan.from; i < plan.pages; i, off = i+1, off+plan.limit {
			a, err := fetch(fctx, off)
			select {
			case f.out <- fetched[T]{a, err}:
			case <-fctx.Done():
				return
			}
			if err != nil || a.rows != plan.limit || a.total != plan.total || off+plan.limit >= plan.total {
				return
			}
		}
	}()
	return f
}

// take returns the answer at offset when it is the one the fetcher asks for next (waiting for
// it); ok is false when it is not, or the fetcher stopped before it: the pager then asks itself.
// A nil f has nothing.
func (f *fetcher[T]) take(offset int) (a answer[T], err error, ok bool) {
	if f == nil || offset != f.next {
		return answer[T]{}, nil, false
	}
	r, ok := <-f.out
	if !ok {
		return answer[T]{}, nil, false
	}
	f.next += f.limit
	return r.a, r.err, true
}

// discard cancels the requests still going or waiting (with errPrefetchDiscarded as the cause)
// and waits until the goroutine is done. A nil f is nothing to discard.
func (f *fetcher[T]) discard() {
	if f == nil {
		return
	}
	f.cancel(errPrefetchDiscarded)
	<-f.done
}
