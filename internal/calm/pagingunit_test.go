package calm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// pt is one data point of a fake metrics collection: measure m of row r.
type pt struct{ r, m int }

// unitServer is a metrics collection of rows × measures data points, paged the way a tenant may
// page it: limit/offset/x-total-count counting points or rows, pages capped below the limit,
// points ordered measure by measure (as the API orders them) and a total that may change.
type unitServer struct {
	rows, measures int
	byRows         bool
	cap            int                // 0: none; else at most cap units per page
	grow           func(req int) int  // rows added before request req (1-based); nil: none
	totalOf        func(n, t int) int // the x-total-count sent; nil: the true total
	requests       int
	empty          func(offset int) bool // answer {} at offset
}

func (s *unitServer) points() []pt {
	var out []pt
	for m := range s.measures {
		for r := range s.rows {
			out = append(out, pt{r, m})
		}
	}
	return out
}

func (s *unitServer) fetch(limit int) fetchAnswer[pt] {
	return whole(func(_ context.Context, offset int) (answer[pt], error) {
		s.requests++
		if s.grow != nil {
			s.rows += s.grow(s.requests)
		}
		n := limit
		if s.cap > 0 {
			n = min(n, s.cap)
		}
		all := s.points()
		var items []pt
		total := len(all)
		if s.byRows {
			total = s.rows
			for r := offset; r < min(offset+n, s.rows); r++ {
				for m := range s.measures {
					items = append(items, pt{r, m})
				}
			}
		} else if offset < len(all) {
			items = all[offset:min(offset+n, len(all))]
		}
		if s.empty != nil && s.empty(offset) {
			items = nil
		}
		if s.totalOf != nil {
			total = s.totalOf(s.requests, total)
		}
		keys := map[uint64]struct{}{}
		for _, p := range items {
			keys[uint64(p.r)] = struct{}{}
		}
		d := decoded[pt]{items: items, count: len(items), rows: len(keys), keys: keys}
		return answer[pt]{total: total, hash: bodyHash(fmt.Append(nil, offset, items)), items: len(items),
			decode: func() (decoded[pt], error) { return d, nil }}, nil
	})
}

func walkAll(s *unitServer, limit int) (map[pt]int, error) {
	got := map[pt]int{}
	for p, err := range (pager[pt]{logger: quietLogger(), what: "test", limit: limit, maxPages: 1000, allPages: true}).pages(context.Background(), s.fetch(limit)) {
		if err != nil {
			return got, err
		}
		for _, it := range p.items {
			got[it]++
		}
	}
	return got, nil
}

// Every point arrives (at least once; the collector drops repeats by id) whether the tenant
// pages by points or rows, caps pages below the limit or not, for one measure or several, and
// the walk takes few requests more than needed.
func TestPagesDeliverEveryPointWhateverTheUnit(t *testing.T) {
	for _, byRows := range []bool{false, true} {
		for _, capped := range []int{0, 4} {
			for _, measures := range []int{1, 5} {
				for _, rows := range []int{0, 1, 3, 7, 24} {
					name := fmt.Sprintf("rows=%v/cap=%d/measures=%d/rows=%d", byRows, capped, measures, rows)
					s := &unitServer{rows: rows, measures: measures, byRows: byRows, cap: capped}
					const limit = 10
					got, err := walkAll(s, limit)
					if err != nil {
						t.Errorf("%s: %v", name, err)
						continue
					}
					for _, p := range s.points() {
						if got[p] == 0 {
							t.Errorf("%s: point %v missing", name, p)
						}
					}
					if len(got) != rows*measures {
						t.Errorf("%s: %d distinct points, want %d", name, len(got), rows*measures)
					}
					units := rows * measures
					if byRows {
						units = rows
					}
					per := limit
					if capped > 0 {
						per = capped
					}
					// pages needed, one to learn the unit, one empty or repeated end
					if most := (units+per-1)/per + 2; s.requests > most {
						t.Errorf("%s: %d requests, want at most %d", name, s.requests, most)
					}
				}
			}
		}
	}
}

// Rows that arrive while a window is paged move the rows after them: the pager reads again
// from the start and delivers every point, old and new.
func TestPagesReadAgainWhenTheTotalChanges(t *testing.T) {
	for _, byRows := range []bool{false, true} {
		s := &unitServer{rows: 20, measures: 3, byRows: byRows, grow: func(req int) int {
			if req == 2 {
				return 4
			}
			return 0
		}}
		got, err := walkAll(s, 10)
		if err != nil {
			t.Fatalf("byRows=%v: %v", byRows, err)
		}
		for _, p := range s.points() {
			if got[p] == 0 {
				t.Errorf("byRows=%v: point %v missing", byRows, p)
			}
		}
	}
}

// A total that changes on every page fails the walk with ErrTotalChanged after maxRestarts
// readings from the start, never ends it quietly.
func TestPagesFailWhenTheTotalKeepsChanging(t *testing.T) {
	s := &unitServer{rows: 30, measures: 1, totalOf: func(n, t int) int { return t + n }}
	_, err := walkAll(s, 10)
	if !errors.Is(err, ErrTotalChanged) {
		t.Fatalf("err = %v, want ErrTotalChanged", err)
	}
	if s.requests != maxRestarts+2 {
		t.Errorf("%d requests, want %d (the first, then one per reading again)", s.requests, maxRestarts+2)
	}
}

// An empty page ({} or null decode to none) while the total says more fails the walk with
// ErrIncompletePage; the same empty page at the total's end is the end.
func TestPagesFailOnAnEmptyPageBeforeTheTotal(t *testing.T) {
	s := &unitServer{rows: 30, measures: 1, empty: func(offset int) bool { return offset == 10 }}
	_, err := walkAll(s, 10)
	if !errors.Is(err, ErrIncompletePage) {
		t.Fatalf("err = %v, want ErrIncompletePage", err)
	}
	s = &unitServer{rows: 30, measures: 1, totalOf: func(int, int) int { return -1 }}
	got, err := walkAll(s, 10)
	if err != nil || len(got) != 30 || s.requests != 4 {
		t.Errorf("without a total: %d points in %d requests, %v; want 30 in 4 (the last one empty)", len(got), s.requests, err)
	}
}

// A server that ignores offset: after a short page, the repeat is the end; after a full page
// it is an error (the rest cannot be read).
func TestPagesServerIgnoringOffset(t *testing.T) {
	short := func(_ context.Context, _ int) (answer[int], error) {
		items := []int{1, 2, 3}
		return answer[int]{total: -1, hash: bodyHash([]byte("same")), items: 3,
			decode: func() (decoded[int], error) { return decoded[int]{items: items, count: 3, rows: 3}, nil }}, nil
	}
	var got []int
	for p, err := range (pager[int]{logger: quietLogger(), what: "t", limit: 10, maxPages: 100, allPages: true}).pages(context.Background(), whole(short)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.items...)
	}
	if !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("got %v, want the page once, then the end", got)
	}
	full := func(_ context.Context, _ int) (answer[int], error) {
		items := []int{1, 2}
		return answer[int]{total: -1, hash: bodyHash([]byte("same")), items: 2,
			decode: func() (decoded[int], error) { return decoded[int]{items: items, count: 2, rows: 2}, nil }}, nil
	}
	var err error
	for _, e := range (pager[int]{logger: quietLogger(), what: "t", limit: 2, maxPages: 100, allPages: true}).pages(context.Background(), whole(full)) {
		if e != nil {
			err = e
		}
	}
	if !errors.Is(err, ErrRepeatedPage) {
		t.Errorf("err = %v, want ErrRepeatedPage", err)
	}
}
