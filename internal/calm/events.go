package calm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
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
		p := page[StatusEvent]{count: len(raws), total: headerTotal(resp.header), hash: bodyHash(resp.body), bytes: len(resp.body), corr: correlationID(resp)}
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

// ParseEventTime reads the event time formats seen or plausible: RFC 3339, yyyyMMddHHmmss (UTC)
// and epoch milliseconds. The format is unconfirmed (docs/design.md §1.4), so all are accepted.
func ParseEventTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(TimeLayout, s); err == nil {
		return t.UTC(), true
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) >= 12 {
		return time.UnixMilli(ms).UTC(), true
	}
	return time.Time{}, false
}

// Outside reports whether the event lies outside the range [from, to) it was answered for, at
// now: it ended before from, or it began at or after to (an event announced for later, not
// begun at now, is not outside). Whether the API filters on start time or on overlap, it never
// answers such an event for the range: one that comes means the range was not honoured
// (docs/design.md §7, "Status events"). Times not understood tell nothing.
func (e StatusEvent) Outside(from, to, now time.Time) bool {
	if end, ok := ParseEventTime(e.EventEndTime); ok && end.Before(from) {
		return true
	}
	start, ok := ParseEventTime(e.EventStartTime)
	return ok && !start.Before(to) && !start.After(now)
}
