package calm

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// getList GETs one page of a list API (status events): path under /api with
// query, the answer checked to be a JSON list (see shape.go).
func (c *Client) getList(ctx context.Context, path string, query url.Values) (*response, error) {
	req, err := c.newRequest(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return nil, err
	}
	req.shape = shapeList
	return c.do(req, nil)
}

// flatten turns an iterator of pages into an iterator of their items.
func flatten[T any](pages iter.Seq2[page[T], error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for p, err := range pages {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.items {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}
