package calm

import (
	"context"
	"crypto/sha256"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// page is one fetched page of a limit/offset collection.
type page[T any] struct {
	items  []T
	offset int      // offset the page was asked for
	count  int      // items in the page: data points for metrics
	rows   int      // rows in the page (metrics: distinct series and time; otherwise = count)
	total  int      // x-total-count, -1 when absent
	hash   [32]byte // of the body, to notice a server that ignores offset
	bytes  int
	corr   string // x-correlationid of the answer, for SAP support
}

// fetchPage fetches and decodes the page at offset.
type fetchPage[T any] func(ctx context.Context, offset int) (page[T], error)

// decoded is a page's content: its items, how many items (count) and rows it holds, and for
// metrics the keys of its rows (series and time), which tell the paging unit (see pages).
type decoded[T any] struct {
	items       []T
	count, rows int
	keys        map[uint64]struct{}
}

// answer is a page as the network part of a fetch leaves it: the body read (bounded), the
// headers seen, its items counted as well as can be done without decoding; decode makes the
// page of it. Splitting the two lets the pager ask for the next page while this one is decoded.
type answer[T any] struct {
	total int      // x-total-count, -1 when absent
	hash  [32]byte // of the body
	bytes int
	corr  string // x-correlationid, named in the errors about this page
	// items is the number of items (metrics: data points, not rows) the page holds as far as
	// it is known before decoding (a cheap scan of the body, or the exact count of a page
	// decoded already); -1 when unknown. The pager asks for the next page early only when the
	// page looks full (full); decode has the final say, so a wrong guess costs one discarded
	// request, never a row.
	items  int
	decode func() (decoded[T], error)
}

// full reports whether the answer looks like a full page of limit before it is decoded. Under
// items paging a full page holds limit items. Under rows paging (or while the unit is not
// known) rows cannot be counted before decoding, but a full page holds at least limit data
// points, since every row carries at least one: at least limit then looks full.
func (a answer[T]) full(limit int, unit pageUnit) bool {
	if unit == unitItems {
		return a.items == limit
	}
	return a.items >= limit
}

// looksFull is answer.full for the walk's next request: after a short page (a tenant capping
// pages below the limit), a guess by data points that may be rows is not taken, so that such a
// tenant does not have every page's next one asked for in vain.
func (w *walk[T]) looksFull(a answer[T]) bool {
	return a.full(w.limit, w.unit) && (w.unit == unitItems || !w.prevShort)
}

// fetchAnswer does the network part of fetching the page at offset, in the two phases of a
// request: it returns once the answer's status and headers are in (begun), and begun.rest reads
// the body. The fetcher asks for the next page between the two.
type fetchAnswer[T any] func(ctx context.Context, offset int) (begun[T], error)

// begun is an answer whose status and headers are in: total is its x-total-count (-1 when
// absent), rest reads the body and makes the answer.
type begun[T any] struct {
	total int
	rest  func() (answer[T], error)
}

// ready is an answer read whole as one that has begun.
func ready[T any](a answer[T]) begun[T] {
	return begun[T]{total: a.total, rest: func() (answer[T], error) { return a, nil }}
}

// paginate is pages for a fetch that decodes as it fetches: the exact row count is known before
// the page is used, and the next pages are asked for while the caller uses this one (once this
// one is read and decoded: its answer begins when it is whole).
func (p pager[T]) paginate(ctx context.Context, fetch fetchPage[T]) iter.Seq2[page[T], error] {
	return p.pages(ctx, func(ctx context.Context, offset int) (begun[T], error) {
		pg, err := fetch(ctx, offset)
		if err != nil {
			return begun[T]{}, err
		}
		return ready(answer[T]{total: pg.total, hash: pg.hash, bytes: pg.bytes, corr: pg.corr, items: pg.count,
			decode: func() (decoded[T], error) { return decoded[T]{items: pg.items, count: pg.count, rows: pg.count}, nil }}), nil
	})
}

// maxRestarts is how often the pager reads a collection again from the start because its
// total changed, before it gives up on the window.
const maxRestarts = 2

// pageUnit is what limit, offset and x-total-count count: metrics data points or rows (one
// row = one series at one time, carrying every measure asked for).
type pageUnit int

const (
	unitUnknown pageUnit = iota
	unitItems            // data points (metrics), records or items (other collections)
	unitRows
)

func (u pageUnit) String() string {
	return [...]string{"unknown", "data points", "rows"}[u]
}

// pager walks one limit/offset collection: what names it in errors, limit is the page size
// asked for, maxPages caps the pages of one walk. allPages says the caller reads every page
// (the first page then asks ahead too; a probe that reads one page leaves it false and makes one
// request). learned, when set, is the paging unit shared by the walks of one client (one tenant
// pages one way): the walk starts from it and records what it learns; nil learns for this walk
// only.
type pager[T any] struct {
	logger   *slog.Logger
	what     string
	limit    int
	maxPages int
	allPages bool
	learned  *atomic.Int32
	// capped, when set, is shared by the walks of one client like learned: true once a walk met
	// a short page before its end (a server that caps pages below the limit). The first page is
	// then asked for alone, not with the second (which such a server would make a wasted
	// request).
	capped *atomic.Bool
	// handoff, when set, is closed once the answer to what the walk expects to be its last page
	// is in, before it is decoded (Client.Handoff).
	handoff *handoff
}

// newPager is the pager of the client c for the collection what, with pages of limit.
func newPager[T any](c *Client, what string, limit int) pager[T] {
	return pager[T]{logger: c.logger, what: what, limit: limit, maxPages: c.maxPages}
}

// pages walks a limit/offset collection page by page and delivers every item at least once
// whatever limit, offset and x-total-count count, whether or not the server caps a page below
// the limit, and when the total changes. It never ends early: where it cannot tell, it reads
// again (the caller drops items it already has, by id) or fails. How it decides:
//
//   - The unit. A metrics page holds count data points in rows rows. A page full in one unit
//     (count or rows equal to the limit, the other not) tells the unit. A short page whose
//     two counts differ does not (it may be the last page, or a server's cap below the
//     limit): the pager moves on by rows, which never skips under either reading, and the
//     next page tells: under points paging it starts inside the previous page (it shares a
//     row with it), under rows paging it does not. Other collections have one unit.
//   - The next offset is the previous one plus the page's count in the unit (rows while the
//     unit is unknown). A short page is not the end: a server may cap pages below the limit.
//   - The end: offset reaches x-total-count; without a total, an empty page. An empty page
//     (also {} or null) before the total is reached fails with ErrIncompletePage. A page
//     repeating the previous one is the end after a short page that held everything (a server
//     that ignores offset and sends it all: see sentEverything) and fails with ErrRepeatedPage
//     otherwise: after a full page, or while x-total-count says more (the short page may have
//     been capped). A first page
//     with more rows than the limit is everything (a server that ignores limit).
//   - A total that changes between pages means data came or went while paging: rows before
//     the offset may have moved, so the pager reads again from offset 0, at most maxRestarts
//     times, then fails with ErrTotalChanged. maxPages caps the pages of one walk.
//
// A failed walk has yielded some pages: the caller must not treat them as a complete window.
//
// Asking ahead (docs/transfer.md): from the second page on (the first with allPages), when a
// page is full (its items, counted before decoding, equal the limit) and the total says there
// is more, a fetcher goroutine asks for the next pages one after the other, at most
// maxAhead pages ahead of the page being decoded, while this one is decoded and yielded. Its
// answers are used only while paging goes on at exactly their offsets; otherwise (a page short
// after all, a changed total, a repeat, an error, the end, the caller stopping) the fetcher is
// cancelled and waited for, so no goroutine outlives the iteration; a cancelled ctx cancels it.
func (p pager[T]) pages(ctx context.Context, fetch fetchAnswer[T]) iter.Seq2[page[T], error] {
	return func(yield func(page[T], error) bool) {
		w := walk[T]{logger: p.logger, what: p.what, limit: p.limit, total: -1}
		if p.learned != nil {
			w.unit = pageUnit(p.learned.Load())
			defer func() {
				if w.unit != unitUnknown {
					p.learned.Store(int32(w.unit))
				}
			}()
		}
		var ahead *fetcher[T]
		defer func() { ahead.discard() }()
		for n := 1; ; n++ {
			if err := ctx.Err(); err != nil {
				w.fail(yield, fmt.Errorf("%s at offset %d: %w", p.what, w.offset, err))
				return
			}
			if n > p.maxPages {
				w.fail(yield, fmt.Errorf("%s: page %d at offset %d (total %d, limit %d, at most %d pages): %w", p.what, n, w.offset, w.total, p.limit, p.maxPages, ErrTooManyPages))
				return
			}
			if n == 1 && p.allPages && p.maxPages > 1 && (p.capped == nil || !p.capped.Load()) {
				// the second page goes out as soon as the first answer has begun
				ahead = startFetcher(ctx, fetcherPlan{from: w.offset, limit: p.limit, total: -1, pages: p.maxPages, unit: w.unit, handoff: p.handoff}, fetch)
			}
			a, ok, err := ahead.take(w.offset)
			if !ok {
				ahead.discard()
				ahead = nil
				var b begun[T]
				if b, err = fetch(ctx, w.offset); err == nil {
					a, err = b.rest()
				}
			}
			if err != nil {
				w.fail(yield, fmt.Errorf("%s at offset %d: %w", p.what, w.offset, err))
				return
			}
			switch next, err := w.before(a); {
			case err != nil:
				w.fail(yield, err)
				return
			case next == stepEnd:
				return
			case next == stepRestart:
				continue
			}
			if ahead == nil && (n > 1 || p.allPages) && w.looksFull(a) && w.total >= 0 && w.offset+p.limit < w.total && n+1 <= p.maxPages {
				ahead = startFetcher(ctx, fetcherPlan{from: w.offset + p.limit, limit: p.limit, total: w.total, pages: p.maxPages - n, unit: w.unit, handoff: p.handoff}, fetch)
			}
			d, err := a.decode()
			if err != nil {
				w.fail(yield, fmt.Errorf("%s at offset %d: %w", p.what, w.offset, err))
				return
			}
			if !yield(page[T]{items: d.items, offset: w.offset, count: d.count, rows: d.rows, total: a.total, hash: a.hash, bytes: a.bytes}, nil) {
				return
			}
			if next, err := w.after(n, d); err != nil {
				w.fail(yield, err)
				return
			} else if next == stepEnd {
				return
			}
			if w.prevShort && p.capped != nil {
				p.capped.Store(true) // a short page before the end
			}
		}
	}
}

// step is what the walk does after a page.
type step int

const (
	stepOn step = iota
	stepEnd
	stepRestart
)

// walk is the state of one pages walk.
type walk[T any] struct {
	logger        *slog.Logger
	what          string
	limit         int
	offset, total int
	restarts      int
	unit          pageUnit
	prev          [32]byte // hash of the previous page's body
	prevShort     bool     // the previous page was short in its unit
	prevOffset    int      // the previous page's offset, rows and data points
	prevRows      int
	prevCount     int
	prevKeys      map[uint64]struct{} // row keys of the previous page while it left the unit open
	corr          string              // x-correlationid of the page being judged
}

func (w *walk[T]) fail(yield func(page[T], error) bool, err error) { yield(page[T]{}, err) }

// corrNote names the x-correlationid of the page being judged, for an error about it: SAP
// support finds the call by it.
func (w *walk[T]) corrNote() string {
	if w.corr == "" {
		return ""
	}
	return " (x-correlationid " + w.corr + ")"
}

// before checks an answer before it is decoded: a repeated page, a changed total.
func (w *walk[T]) before(a answer[T]) (step, error) {
	w.corr = a.corr
	if w.offset > 0 && a.hash == w.prev {
		// After a short page, the server ignores offset and sent everything at once, unless the
		// total says more: then the short page may have been capped, and ending would skip rows.
		if w.prevShort && w.sentEverything() {
			w.logger.Info("page repeats the previous, short one: the server ignores offset; taking it as the end", "what", w.what, "offset", w.offset)
			return stepEnd, nil
		}
		return stepOn, fmt.Errorf("%s at offset %d%s: %w", w.what, w.offset, w.corrNote(), ErrRepeatedPage)
	}
	w.prev = a.hash
	if a.total < 0 {
		return stepOn, nil
	}
	if w.total >= 0 && a.total != w.total {
		w.restarts++
		if w.restarts > maxRestarts {
			return stepOn, fmt.Errorf("%s: x-total-count changed from %d to %d at offset %d%s, %d times while paging (limit %d); the window is held and read again next run: %w",
				w.what, w.total, a.total, w.offset, w.corrNote(), w.restarts, w.limit, ErrTotalChanged)
		}
		w.logger.Warn("total count changed while paging; reading again from the start (items seen twice are dropped by id)",
			"what", w.what, "offset", w.offset, "was", w.total, "now", a.total)
		w.total, w.offset, w.prev, w.prevKeys, w.prevShort = a.total, 0, [32]byte{}, nil, false
		return stepRestart, nil
	}
	w.total = a.total
	return stepOn, nil
}

// sentEverything reports whether the previous, short page held the whole collection: there is
// no total, or the page was the first and its rows (everything under either reading) or, unless
// the tenant is known to page by rows, its data points match the total.
func (w *walk[T]) sentEverything() bool {
	return w.total < 0 || w.prevOffset == 0 && (w.total <= w.prevRows || w.unit != unitRows && w.total == w.prevCount)
}

// after moves the offset past a decoded page and says whether the walk goes on.
func (w *walk[T]) after(n int, d decoded[T]) (step, error) {
	if d.count == 0 {
		if w.total > w.offset {
			return stepOn, fmt.Errorf("%s: page %d at offset %d%s is empty while x-total-count says %d (limit %d); the window is held and read again next run: %w",
				w.what, n, w.offset, w.corrNote(), w.total, w.limit, ErrIncompletePage)
		}
		return stepEnd, nil
	}
	if w.unit == unitUnknown && w.prevKeys != nil {
		w.unit = unitRows
		for k := range d.keys {
			if _, ok := w.prevKeys[k]; ok {
				w.unit = unitItems
				break
			}
		}
		w.logger.Info("paging unit learned from a page that starts inside the previous one or not", "what", w.what, "unit", w.unit.String())
	}
	w.prevKeys = nil
	if d.rows > w.limit {
		if n == 1 {
			w.logger.Warn("page holds more rows than the limit (the server ignores limit); taking it as everything", "what", w.what, "limit", w.limit, "rows", d.rows)
			return stepEnd, nil
		}
		return stepOn, fmt.Errorf("%s: page %d at offset %d%s holds %d rows, more than the limit %d: %w", w.what, n, w.offset, w.corrNote(), d.rows, w.limit, ErrIncompletePage)
	}
	adv := d.rows
	switch {
	case d.count == d.rows, w.unit == unitItems:
		adv = d.count
	case w.unit == unitRows:
	case d.count == w.limit:
		w.unit, adv = unitItems, d.count
	case d.rows == w.limit:
		w.unit = unitRows
	default:
		w.prevKeys = d.keys // short in both units: move on by rows; the next page tells
	}
	w.prevShort = adv < w.limit
	w.prevOffset, w.prevRows, w.prevCount = w.offset, d.rows, d.count
	w.offset += adv
	if w.total >= 0 && w.offset >= w.total {
		return stepEnd, nil
	}
	return stepOn, nil // without a total, a short page may be a cap: go on until an empty page
}

// headerTotal reads x-total-count of h; -1 when absent or unreadable.
func headerTotal(h http.Header) int {
	v := strings.TrimSpace(h.Get("X-Total-Count"))
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
