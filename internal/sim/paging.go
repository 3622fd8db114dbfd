package sim

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

type tokenInfo struct {
	claims claims
	faults Faults
}

type tokenKey struct{}

func withToken(ctx context.Context, t tokenInfo) context.Context {
	return context.WithValue(ctx, tokenKey{}, t)
}

func tokenFrom(ctx context.Context) tokenInfo {
	t, _ := ctx.Value(tokenKey{}).(tokenInfo)
	return t
}

// badRequest is a 4xx answer a handler decided on.
type badRequest struct {
	status  int
	code    string
	message string
}

func (b *badRequest) Error() string { return b.message }

func (b *badRequest) write(w http.ResponseWriter) { writeError(w, b.status, b.code, b.message) }

func badParam(format string, args ...any) *badRequest {
	return &badRequest{http.StatusBadRequest, "Bad Request", fmt.Sprintf(format, args...)}
}

func missingParam(name string) *badRequest {
	return &badRequest{http.StatusPreconditionRequired, "Precondition Required", "Missing required parameter: " + name}
}

// pageParams are limit and offset of a paged request; limit 0 means no limit.
type pageParams struct {
	limit, offset int
	truncate      bool // onLimit=truncate
}

func parsePage(r *http.Request) (pageParams, *badRequest) {
	var p pageParams
	q := r.URL.Query()
	for _, f := range []struct {
		name string
		dst  *int
	}{{"limit", &p.limit}, {"offset", &p.offset}} {
		v := q.Get(f.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, badParam("parameter %s must be a non-negative integer, got %q", f.name, v)
		}
		*f.dst = n
	}
	p.truncate = strings.EqualFold(q.Get("onLimit"), "truncate")
	return p, nil
}

// pageIndexes picks the items of one page out of total, applying the paging faults, and
// returns them with the x-total-count to report.
func (s *Server) pageIndexes(p pageParams, total int, f Faults) ([]int, int) {
	limit, offset := p.limit, p.offset
	if f.RepeatPage {
		offset = 0
	}
	if f.IgnoreLimit {
		limit, offset = 0, 0
	}
	reported := total
	if f.GrowTotal && total > 0 {
		// Report one more page than was asked for, and serve items beyond the end again
		// from the start: a pager trusting the total never finishes.
		step := limit
		if step == 0 {
			step = total
		}
		s.mu.Lock()
		s.growth++
		reported = max(total, offset+step) + s.growth*step
		s.mu.Unlock()
		end := offset + step
		idx := make([]int, 0, step)
		for i := offset; i < end; i++ {
			idx = append(idx, i%total)
		}
		return idx, reported
	}
	end := total
	if limit > 0 && offset+limit < total {
		end = offset + limit
	}
	var idx []int
	for i := offset; i < end; i++ {
		idx = append(idx, i)
	}
	return idx, reported
}

// pageOf picks one page of items as pageIndexes does and returns it with the x-total-count to
// report.
func pageOf[T any](s *Server, items []T, p pageParams, f Faults) ([]T, int) {
	idx, total := s.pageIndexes(p, len(items), f)
	page := make([]T, len(idx))
	for i, j := range idx {
		page[i] = items[j]
	}
	return page, total
}

func setTotal(w http.ResponseWriter, n int) { w.Header().Set("x-total-count", strconv.Itoa(n)) }

// listParam collects a parameter that may repeat or be comma-separated.
func listParam(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
