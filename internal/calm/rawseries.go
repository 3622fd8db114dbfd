package calm

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// The raw-data APIs that answer one OTLP signal per request series (logs, traces) page alike:
// limit and offset with onLimit=truncate, a 403 "Response total count is over the limit" when a
// range holds more than the API answers at once, and possibly a server cap on the records of
// one answer. rawSeries is that paging, once for both.

// rawSeries is the state of one paged series of a raw-data API.
type rawSeries[P any] struct {
	c      *Client
	what   string
	limit  int
	served int      // items per request the server serves, when below the asked limit
	first  *page[P] // first page, kept for the second run after errServerPageCap
	get    func(ctx context.Context, limit, offset int) (page[P], error)
}

// newRawSeries is a series asking pageSize items a page (0: the client's page size).
func newRawSeries[P any](c *Client, what string, pageSize int, get func(ctx context.Context, limit, offset int) (page[P], error)) *rawSeries[P] {
	if pageSize <= 0 {
		pageSize = c.opt.PageSize
	}
	return &rawSeries[P]{c: c, what: what, limit: pageSize, get: get}
}

// all yields the series' pages. A server that serves fewer items per request than asked (its
// own cap) while the total says there are more is paged by the size it serves: the first page
// is kept, not fetched again.
func (s *rawSeries[P]) all(ctx context.Context) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		for run := 0; ; run++ {
			resized := false
			for p, err := range newPager[P](s.c, s.what, s.limit).paginate(ctx, s.fetch) {
				if errors.Is(err, errServerPageCap) && run == 0 {
					resized = true
					break
				}
				if err != nil {
					var zero P
					yield(zero, err)
					return
				}
				for _, item := range p.items {
					if !yield(item, nil) {
						return
					}
				}
			}
			if !resized {
				return
			}
			s.c.logger.Info("the API serves fewer records per request than asked; paging by its size",
				"what", s.what, "asked", s.limit, "served", s.served, "total", s.first.total)
			s.limit = s.served
		}
	}
}

// errServerPageCap stops the first run of a series whose first page was cut short by the
// server: the pager's bounds assume pages of the asked limit, so the series starts again with
// the limit the server serves.
var errServerPageCap = errors.New("the server serves fewer records per request than asked")

func (s *rawSeries[P]) fetch(ctx context.Context, offset int) (page[P], error) {
	if offset == 0 && s.first != nil && s.served > 0 && s.limit == s.served {
		return *s.first, nil
	}
	p, err := s.get(ctx, s.limit, offset)
	if err != nil {
		return p, err
	}
	if offset == 0 && s.served == 0 && p.count > 0 && p.count < s.limit && p.total > p.count {
		s.served, s.first = p.count, &p
		return page[P]{}, errServerPageCap
	}
	return p, nil
}

// rawGet makes one GET of a raw-data API. A 403 worded as the count cap is an error matching
// ErrOverLimit.
func (c *Client) rawGet(ctx context.Context, path string, sh shape, qv url.Values) (*response, error) {
	req, err := c.newRequest(ctx, http.MethodGet, path, qv, nil)
	if err != nil {
		return nil, err
	}
	req.shape = sh
	resp, err := c.do(req, nil)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden &&
			strings.Contains(strings.ToLower(apiErr.Message+" "+apiErr.SAPMessage), overLimitMessage) {
			return nil, fmt.Errorf("%w: %w", ErrOverLimit, err)
		}
		return nil, err
	}
	return resp, nil
}

// rawPage is the page of one answer holding item, which counts n records.
func rawPage[P any](resp *response, item P, offset, n int) page[P] {
	return page[P]{items: []P{item}, offset: offset, count: n, total: headerTotal(resp.header),
		hash: bodyHash(resp.body), bytes: len(resp.body), corr: correlationID(resp)}
}
