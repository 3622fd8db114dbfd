package calm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strconv"
	"strings"
)

// page is one fetched page of a limit/offset collection.
type page[T any] struct {
	items  []T
	offset int      // offset the page was asked for
	count  int      // rows in the page: data points for metrics, items otherwise
	total  int      // x-total-count, -1 when absent
	hash   [32]byte // of the body, to notice a server that ignores offset
	bytes  int
}

// fetchPage fetches and decodes the page at offset.
type fetchPage[T any] func(ctx context.Context, offset int) (page[T], error)

// answer is a page as the network part of a fetch leaves it: the body read (bounded), the
// headers seen, the rows counted as well as can be done without decoding; decode makes the
// page of it. Splitting the two lets the pager ask for the next page while this one is decoded.
type answer[T any] struct {
	total int      // x-total-count, -1 when absent
	hash  [32]byte // of the body
	bytes int
	// rows is the number of rows the page holds as far as it is known before decoding (a cheap
	// scan of the body, or the exact count of a page decoded already); -1 when unknown. The
	// pager asks for the next page early only when rows equals the limit; decode has the final
	// say, so a wrong guess costs one discarded request, never a row.
	rows   int
	decode func() (items []T, count int, err error)
}

// fetchAnswer does the network part of fetching the page at offset.
type fetchAnswer[T any] func(ctx context.Context, offset int) (answer[T], error)

// errPrefetchDiscarded is the cause given to the context of a request the pager sent ahead
// and then did not need; the client does not count its end as an error.
var errPrefetchDiscarded = errors.New("page requested ahead is not needed")

// paginate is pages for a fetch that decodes as it fetches: the exact row count is known before
// the page is used, and the next page is asked for while the caller uses this one.
func paginate[T any](ctx context.Context, logger *slog.Logger, what string, limit, maxPages int, fetch fetchPage[T]) iter.Seq2[page[T], error] {
	return pages(ctx, logger, what, limit, maxPages, false, func(ctx context.Context, offset int) (answer[T], error) {
		p, err := fetch(ctx, offset)
		if err != nil {
			return answer[T]{}, err
		}
		return answer[T]{total: p.total, hash: p.hash, bytes: p.bytes, rows: p.count,
			decode: func() ([]T, int, error) { return p.items, p.count, nil }}, nil
	})
}

// pages walks a limit/offset collection page by page. It stops when offset reaches the
// (largest) total, on an empty page, on a short page when there is no total, and after a page
// that holds everything at once (a server that ignores limit). It fails with ErrRepeatedPage
// when a page repeats the previous one, and with ErrTooManyPages past ceil(first/limit)+2
// pages, where first is the total count of the first page that had one, or past the hard cap.
// The bound uses the first total, not the latest: a server whose total grows with every page
// would otherwise be followed to the hard cap. what names the collection in errors.
//
// Pipelining: from the second page on, when a page is full (its rows, counted before decoding,
// equal the limit) and the total says there is more, the request for the page at offset+limit
// goes out at once, in a goroutine, while this page is decoded and yielded. It is used only
// when the decoded page turns out full as well, so that paging goes on at exactly that offset;
// otherwise (a short, empty or over-full page, a changed total) it is cancelled and waited for,
// and paging goes on exactly as without it. The first page sends none ahead unless allPages
// says the caller reads every page: a caller that reads one page (a probe) makes one request.
// Every return waits for the request sent ahead,
// so no goroutine outlives the iteration; a cancelled ctx cancels it.
func pages[T any](ctx context.Context, logger *slog.Logger, what string, limit, maxPages int, allPages bool, fetch fetchAnswer[T]) iter.Seq2[page[T], error] {
	return func(yield func(page[T], error) bool) {
		var zero page[T]
		offset, total, first := 0, -1, -1
		var prev [32]byte
		var ahead *prefetch[T]
		defer func() { ahead.discard() }()
		for n := 1; ; n++ {
			if err := ctx.Err(); err != nil {
				yield(zero, fmt.Errorf("%s at offset %d: %w", what, offset, err))
				return
			}
			if first >= 0 && n > ceilDiv(first, limit)+2 {
				if total > first {
					yield(zero, fmt.Errorf("%s: page %d at offset %d: x-total-count grew from %d to %d while paging (limit %d); stopped after ceil(%d/%d)+2 pages: %w",
						what, n, offset, first, total, limit, first, limit, ErrTooManyPages))
					return
				}
				yield(zero, fmt.Errorf("%s: page %d at offset %d (total %d, limit %d): %w", what, n, offset, total, limit, ErrTooManyPages))
				return
			}
			if n > maxPages {
				yield(zero, fmt.Errorf("%s: page %d at offset %d (total %d, limit %d, at most %d pages): %w", what, n, offset, total, limit, maxPages, ErrTooManyPages))
				return
			}
			var a answer[T]
			var err error
			if ahead != nil && ahead.offset == offset {
				a, err = ahead.wait()
			} else {
				ahead.discard()
				a, err = fetch(ctx, offset)
			}
			ahead = nil
			if err != nil {
				yield(zero, fmt.Errorf("%s at offset %d: %w", what, offset, err))
				return
			}
			if n > 1 && a.hash == prev {
				yield(zero, fmt.Errorf("%s at offset %d: %w", what, offset, ErrRepeatedPage))
				return
			}
			prev = a.hash
			if a.total >= 0 {
				if total >= 0 && a.total != total {
					logger.Info("total count changed while paging; going on to the largest total", "what", what, "offset", offset, "was", total, "now", a.total)
				}
				// A total that shrinks must not end paging early: rows the server counted
				// before are fetched until a page comes back short or empty.
				total = max(total, a.total)
				if first < 0 {
					first = total
				}
			}
			// The next page, when this one is full, is at offset+limit and is page n+1: ask for
			// it now if the checks at the top of the loop will let it be fetched.
			if (n > 1 || allPages) && a.rows == limit && total >= 0 && offset+limit < total &&
				n+1 <= ceilDiv(first, limit)+2 && n+1 <= maxPages {
				ahead = startPrefetch(ctx, offset+limit, fetch)
			}
			items, count, err := a.decode()
			if err != nil {
				yield(zero, fmt.Errorf("%s at offset %d: %w", what, offset, err))
				return
			}
			p := page[T]{items: items, offset: offset, count: count, total: a.total, hash: a.hash, bytes: a.bytes}
			if !yield(p, nil) {
				return
			}
			switch {
			case p.count == 0:
				if total > offset {
					logger.Warn("empty page before the total count was reached; stopping", "what", what, "offset", offset, "total", total)
				}
				return
			case n == 1 && total >= 0 && p.count >= total:
				return // everything in one page (also a server that ignores limit)
			case p.count > limit:
				logger.Warn("page holds more than the limit (the server ignores limit); taking it as everything", "what", what, "limit", limit, "count", p.count)
				return
			}
			offset += p.count
			if total >= 0 {
				if offset >= total {
					return
				}
			} else if p.count < limit {
				return
			}
		}
	}
}

// prefetch is the network part of one page, running ahead in its own goroutine.
type prefetch[T any] struct {
	offset int
	cancel context.CancelCauseFunc
	done   chan struct{}
	a      answer[T]
	err    error
}

func startPrefetch[T any](ctx context.Context, offset int, fetch fetchAnswer[T]) *prefetch[T] {
	pctx, cancel := context.WithCancelCause(ctx)
	p := &prefetch[T]{offset: offset, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.a, p.err = fetch(pctx, offset)
	}()
	return p
}

// wait returns the answer once it is there.
func (p *prefetch[T]) wait() (answer[T], error) {
	<-p.done
	p.cancel(nil)
	return p.a, p.err
}

// discard cancels the request (if it is still going) and waits until its goroutine is done.
// A nil p is nothing to discard.
func (p *prefetch[T]) discard() {
	if p == nil {
		return
	}
	p.cancel(errPrefetchDiscarded)
	<-p.done
}

func ceilDiv(a, b int) int {
	if b <= 0 {
		return a
	}
	return (a + b - 1) / b
}

// totalCount reads x-total-count; -1 when absent or unreadable.
func totalCount(r *response) int {
	v := strings.TrimSpace(r.header.Get("X-Total-Count"))
	if v == "" {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func bodyHash(b []byte) [32]byte { return sha256.Sum256(b) }
