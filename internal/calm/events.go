package calm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"time"
)

// StatusEvent is one Business Service Management status event.
type StatusEvent struct {
	EventID, EventType, EventName, EventDescription, EventStatus string
	ServiceName, ServiceDescription                              string
	EventStartTime, EventEndTime                                 string            // as sent by the API
	Fields                                                       map[string]string // every top-level field as string (incl. the above and unknown ones)
}

// EventsQuery selects status events of a time range.
type EventsQuery struct {
	From, To                     time.Time
	Type, EventType, ServiceName string // optional
	PageSize                     int    // 0 = client default
}

// StatusEvents pages through GET /api/bsm-service/v1/events (startTime, endTime in TimeLayout
// UTC, limit, offset, and type, eventType, serviceName when set). The answer is a JSON array.
// Collections that ignore limit/offset are guarded: a page with more than limit events is
// taken as everything, a repeated page ends with ErrRepeatedPage; no event is yielded twice.
func (c *Client) StatusEvents(ctx context.Context, q EventsQuery) iter.Seq2[StatusEvent, error] {
	limit := q.PageSize
	if limit <= 0 {
		limit = c.opt.PageSize
	}
	what := fmt.Sprintf("status events %s–%s", q.From.UTC().Format(TimeLayout), q.To.UTC().Format(TimeLayout))
	fetch := func(ctx context.Context, offset int) (page[StatusEvent], error) {
		qv := url.Values{
			"startTime": {q.From.UTC().Format(TimeLayout)},
			"endTime":   {q.To.UTC().Format(TimeLayout)},
			"limit":     {strconv.Itoa(limit)},
			"offset":    {strconv.Itoa(offset)},
		}
		if q.Type != "" {
			qv.Set("type", q.Type)
		}
		if q.EventType != "" {
			qv.Set("eventType", q.EventType)
		}
		if q.ServiceName != "" {
			qv.Set("serviceName", q.ServiceName)
		}
		resp, err := c.getList(ctx, "bsm-service/v1/events", qv)
		if err != nil {
			return page[StatusEvent]{}, err
		}
		var raws []map[string]json.RawMessage
		if err := json.Unmarshal(resp.body, &raws); err != nil {
			return page[StatusEvent]{}, fmt.Errorf("decode: the answer is not a JSON array of events: %w", err)
		}
		p := page[StatusEvent]{count: len(raws), total: totalCount(resp), hash: bodyHash(resp.body), bytes: len(resp.body), corr: correlationID(resp)}
		for _, raw := range raws {
			p.items = append(p.items, newStatusEvent(raw))
		}
		return p, nil
	}
	return flatten(newPager[StatusEvent](c, what, limit).paginate(ctx, fetch))
}

func newStatusEvent(raw map[string]json.RawMessage) StatusEvent {
	f := make(map[string]string, len(raw))
	for k, v := range raw {
		f[k] = fieldString(v)
	}
	return StatusEvent{
		EventID: f["eventId"], EventType: f["eventType"], EventName: f["eventName"],
		EventDescription: f["eventDescription"], EventStatus: f["eventStatus"],
		ServiceName: f["serviceName"], ServiceDescription: f["serviceDescription"],
		EventStartTime: f["eventStartTime"], EventEndTime: f["eventEndTime"],
		Fields: f,
	}
}

// fieldString renders a JSON value as a string: strings as they are, null as "", anything else
// as its compact JSON text.
func fieldString(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	if string(v) == "null" {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, v) != nil {
		return string(v)
	}
	return buf.String()
}
