package calm

import (
	"context"
	"errors"
	"sync"
)

// maxAhead is how many pages the pager's fetcher may have asked for beyond the page being
// decoded: with it, a decode and the caller's use of a page may take up to two answers' time
// before the network waits (docs/transfer.md).
const maxAhead = 2

// answersHeld is how many API answers one walk holds at most at once: the page being decoded
// and the pages asked for ahead of it (AnswerCap counts it).
const answersHeld = 1 + maxAhead

// errPrefetchDiscarded is the cause given to the context of a request the pager sent ahead
// and then did not need; the client does not count its end as an error.
var errPrefetchDiscarded = errors.New("page requested ahead is not needed")

// fetcherPlan is what a fetcher asks for: the pages at from, from+limit, … below total, one
// after the other, at most pages of them. A total of -1 is learned from the first answer (its
// x-total-count as soon as its headers are in). An answer that is not full (answer.full in
// unit, the paging unit known when the plan was made), carries another total or is an error is
// the last it asks after. handoff, when set, is closed once the answer to the page the total
// makes the last is in, read whole and before it is decoded (Client.Handoff: a guess, the walk
// may still go on after a short page).
type fetcherPlan struct {
	from, limit, total, pages int
	unit                      pageUnit
	handoff                   *handoff
}

// inflight is one request of a fetcher.
type inflight[T any] struct {
	begun chan struct{} // closed when its answer has begun (status and headers in) or failed
	total int           // x-total-count of the answer once begun, -1 when absent or failed
	done  chan struct{} // closed when a and err are set
	a     answer[T]
	err   error
}

// fetcher asks for the pages of a plan, in order, at most maxAhead pages ahead of the pager.
// It asks for a page once the answer to the page before has begun to arrive (a 2xx status and
// its headers: the first phase of fetchAnswer), so reading, unpacking and checking that answer
// overlap the next request's wait instead of adding to it; the series stays one request after the other at the
// server. It stops asking after an answer that ends the plan (an error, a page not full, a
// changed total); a request already on its way then is discarded by the pager (one request,
// counted, never a row).
type fetcher[T any] struct {
	next   int // offset of the answer the pager takes next
	limit  int
	out    chan *inflight[T] // the requests in the order asked
	slots  chan struct{}     // one per request asked for and not yet taken: at most maxAhead
	cancel context.CancelCauseFunc
	done   chan struct{}
}

func startFetcher[T any](ctx context.Context, plan fetcherPlan, fetch fetchAnswer[T]) *fetcher[T] {
	fctx, cancel := context.WithCancelCause(ctx)
	f := &fetcher[T]{next: plan.from, limit: plan.limit, out: make(chan *inflight[T], maxAhead),
		slots: make(chan struct{}, maxAhead), cancel: cancel, done: make(chan struct{})}
	go func() {
		var requests sync.WaitGroup
		defer close(f.done)
		defer requests.Wait() // no request outlives the fetcher
		defer close(f.out)
		var asked []*inflight[T]
		total := plan.total
		for i, off := 0, plan.from; i < plan.pages && (total < 0 || off < total); i, off = i+1, off+plan.limit {
			select {
			case f.slots <- struct{}{}:
			case <-fctx.Done():
				return
			}
			if ended(asked, plan.limit, plan.unit, total) {
				return
			}
			r := launch(fctx, &requests, fetch, off)
			asked = append(asked, r)
			f.out <- r // never blocks: the slots bound what is in out
			<-r.begun  // closes also when the request fails, as it does once fctx ends
			switch {
			case r.total < 0, total >= 0 && r.total != total:
				return // no total to plan by, or another one: the pager goes on by itself
			case off+plan.limit >= r.total:
				// The last page: handed off once its answer is in whole (a page too large to read
				// is not).
				if <-r.done; r.err == nil {
					plan.handoff.close()
				}
				return
			}
			total = r.total
		}
	}()
	return f
}

// launch runs fetch for the page at offset in a goroutine of its own.
func launch[T any](ctx context.Context, wg *sync.WaitGroup, fetch fetchAnswer[T], offset int) *inflight[T] {
	r := &inflight[T]{begun: make(chan struct{}), total: -1, done: make(chan struct{})}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(r.done)
		b, err := fetch(ctx, offset)
		if err == nil {
			r.total = b.total
		}
		close(r.begun)
		if r.err = err; err == nil {
			r.a, r.err = b.rest()
		}
	}()
	return r
}

// ended reports whether an answer in so far ends the plan: the pager does not go on from it
// at the next offset.
func ended[T any](asked []*inflight[T], limit int, unit pageUnit, total int) bool {
	for _, r := range asked {
		select {
		case <-r.done:
			if r.err != nil || !r.a.full(limit, unit) || r.a.total != total {
				return true
			}
		default:
		}
	}
	return false
}

// take returns the answer at offset when it is the one the fetcher asks for next (waiting for
// it); ok is false when it is not, or the fetcher stopped before it: the pager then asks itself.
// A nil f has nothing.
func (f *fetcher[T]) take(offset int) (a answer[T], ok bool, err error) {
	if f == nil || offset != f.next {
		return answer[T]{}, false, nil
	}
	r, ok := <-f.out
	if !ok {
		return answer[T]{}, false, nil
	}
	<-r.done
	<-f.slots
	f.next += f.limit
	return r.a, true, r.err
}

// discard cancels the requests still going or waiting (with errPrefetchDiscarded as the cause)
// and waits until they and the fetcher are done. A nil f is nothing to discard.
func (f *fetcher[T]) discard() {
	if f == nil {
		return
	}
	f.cancel(errPrefetchDiscarded)
	<-f.done
}
