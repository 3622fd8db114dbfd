package calm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// LandscapeObject is one object of the Cloud ALM landscape; Raw holds every field as sent.
type LandscapeObject struct {
	LmsID, Name, ObjectType string
	Raw                     map[string]any
}

// LandscapeObjects pages through GET /api/calm-landscape/v1/landscapeObjects (limit, offset,
// objectType when set). Scope calm-api.landscape.read.
func (c *Client) LandscapeObjects(ctx context.Context, objectType string) iter.Seq2[LandscapeObject, error] {
	limit := c.opt.PageSize
	what := "landscape objects"
	fetch := func(ctx context.Context, offset int) (page[LandscapeObject], error) {
		q := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
		if objectType != "" {
			q.Set("objectType", objectType)
		}
		resp, err := c.getList(ctx, "calm-landscape/v1/landscapeObjects", q)
		if err != nil {
			return page[LandscapeObject]{}, err
		}
		raws, err := decodeList(resp.body)
		if err != nil {
			return page[LandscapeObject]{}, fmt.Errorf("decode: %w", err)
		}
		p := page[LandscapeObject]{count: len(raws), total: totalCount(resp), hash: bodyHash(resp.body), bytes: len(resp.body), corr: correlationID(resp)}
		for _, m := range raws {
			o := LandscapeObject{Raw: m}
			o.LmsID, _ = m["lmsId"].(string)
			o.Name, _ = m["name"].(string)
			o.ObjectType, _ = m["objectType"].(string)
			p.items = append(p.items, o)
		}
		return p, nil
	}
	return flatten(newPager[LandscapeObject](c, what, limit).paginate(ctx, fetch))
}

// getList GETs one page of a list API (status events, landscape objects): path under /api with
// query, the answer checked to be a JSON list (see shape.go).
func (c *Client) getList(ctx context.Context, path string, query url.Values) (*response, error) {
	req, err := c.newRequest(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return nil, err
	}
	req.shape = shapeList
	return c.do(req, nil)
}

// decodeList decodes a JSON array of objects, or an OData-style {"value":[…]} wrapper.
func decodeList(b []byte) ([]map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		var wrapped struct {
			Value []map[string]any `json:"value"`
		}
		if err := dec.Decode(&wrapped); err != nil {
			return nil, err
		}
		return wrapped.Value, nil
	}
	var list []map[string]any
	if err := dec.Decode(&list); err != nil {
		return nil, err
	}
	return list, nil
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
