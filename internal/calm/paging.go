package calm

import (
	"context"
	"crypto/sha256"
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

// fetchPage fetches the page at offset.
type fetchPage[T any] func(ctx context.Context, offset int) (page[T], error)

// paginate walks a limit/offset collection page by page. It stops when offset reaches the
// (largest) total, on an empty page, on a short page when there is no total, and after a page
// that holds everything at once (a server that ignores limit). It fails with ErrRepeatedPage
// when a page repeats the previous one, and with ErrTooManyPages past ceil(first/limit)+2
// pages, where first is the total count of the first page that had one, or past the hard cap.
// The bound uses the first total, not the latest: a server whose total grows with every page
// would otherwise be followed to the hard cap. what names the collection in errors.
func paginate[T any](ctx context.Context, logger *slog.Logger, what string, limit, maxPages int, fetch fetchPage[T]) iter.Seq2[page[T], error] {
	return func(yield func(page[T], error) bool) {
		var zero page[T]
		offset, total, first := 0, -1, -1
		var prev [32]byte
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
			p, err := fetch(ctx, offset)
			if err != nil {
				yield(zero, fmt.Errorf("%s at offset %d: %w", what, offset, err))
				return
			}
			if n > 1 && p.hash == prev {
				yield(zero, fmt.Errorf("%s at offset %d: %w", what, offset, ErrRepeatedPage))
				return
			}
			prev = p.hash
			if p.total >= 0 {
				if total >= 0 && p.total != total {
					logger.Info("total count changed while paging; going on to the largest total", "what", what, "offset", offset, "was", total, "now", p.total)
				}
				// A total that shrinks must not end paging early: rows the server counted
				// before are fetched until a page comes back short or empty.
				total = max(total, p.total)
				if first < 0 {
					first = total
				}
			}
			p.offset = offset
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
