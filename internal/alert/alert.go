package alert

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/calm-collector/calm-collector/internal/alert/rules"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
)

// Source and the detail types of the events (docs/alerts.md), defined with the rules.
const (
	Source            = rules.Source
	TypeStatusOpened  = rules.TypeStatusOpened
	TypeStatusChanged = rules.TypeStatusChanged
	TypeStatusClosed  = rules.TypeStatusClosed
	TypeRuleFiring    = rules.TypeRuleFiring
	TypeRuleCleared   = rules.TypeRuleCleared
)

// stateTTL is how long the alert state of a series or status event is kept after it was last
// seen: a series silent for longer starts afresh.
const stateTTL = 30 * 24 * time.Hour

// PutEvents' limits (docs/design.md, "Destination limits"): at most putEventsLimit entries per
// call, and a total entry size, computed as EventBridge documents it (entrySize), below
// putEventsMaxBytes (256 KB). putAttempts bounds the retries of entries EventBridge refused.
const (
	putEventsLimit    = 10
	putEventsMaxBytes = 256 << 10
	putAttempts       = 3
)

// EventsAPI is the part of the EventBridge client the sink uses.
type EventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Store keeps the alert state with the checkpoints; internal/state's stores satisfy it.
type Store interface {
	Marks(ctx context.Context, tenant, monitor string, now time.Time) (map[string]state.Mark, error)
	PutMarks(ctx context.Context, tenant, monitor string, now time.Time, marks map[string]state.Mark) error
}

// Sink puts the events of each window on an EventBridge bus.
type Sink struct {
	Bus    string // bus name or ARN
	Events EventsAPI
	Store  Store
	Rules  []rules.Rule
	Now    func() time.Time // the run's clock (mark expiry); time.Now when nil
	Logger *slog.Logger
}

// Name returns "eventbridge:BUS".
func (s *Sink) Name() string { return "eventbridge:" + s.Bus }

// Close does nothing: the client needs no closing.
func (s *Sink) Close(context.Context) error { return nil }

// stateMonitor is the marks' monitor name of a monitor's alert state, beside its checkpoint.
func stateMonitor(monitor string) string { return "alert." + monitor }

// Write puts one event per change the batch brings and then saves the new state. It returns an
// error (and the window is retried) when an event was refused or the state could not be saved;
// the retry sends the same events again, with the same detail ids.
func (s *Sink) Write(ctx context.Context, b sink.Batch) error {
	if !s.interested(b.Monitor) || len(b.Series) == 0 {
		return nil
	}
	now := s.now()
	marks, err := s.Store.Marks(ctx, b.Tenant, stateMonitor(b.Monitor), now)
	if err != nil {
		return fmt.Errorf("%s: read the alert state of %s/%s: %w", s.Name(), b.Tenant, b.Monitor, err)
	}
	changed := map[string]state.Mark{}
	var events []event
	if b.Monitor == StatusMonitor {
		events = s.statusChanges(b, marks, changed, now)
	}
	events = append(events, s.ruleChanges(b, marks, changed, now)...)
	if err := s.put(ctx, b, events); err != nil {
		return err
	}
	if len(changed) == 0 {
		return nil
	}
	if err := s.Store.PutMarks(ctx, b.Tenant, stateMonitor(b.Monitor), now, changed); err != nil {
		return fmt.Errorf("%s: save the alert state of %s/%s (the %d events were put and will be put again, same ids): %w",
			s.Name(), b.Tenant, b.Monitor, len(events), err)
	}
	if len(events) > 0 {
		s.logger().Info("alert events put", "bus", s.Bus, "tenant", b.Tenant, "monitor", b.Monitor, "events", len(events))
	}
	return nil
}

// StatusMonitor is the monitor id of the business-service status events.
const StatusMonitor = "status"

func (s *Sink) interested(monitor string) bool {
	return monitor == StatusMonitor || slices.ContainsFunc(s.Rules, func(r rules.Rule) bool { return r.Monitor == monitor })
}

// event is one entry for PutEvents.
type event struct {
	detailType string
	time       time.Time
	detail     map[string]any
}

// closedStatuses are the status-event states that end an event.
var closedStatuses = []string{"resolved", "closed", "completed", "canceled", "cancelled"}

func isClosed(r record.Record) bool {
	return slices.Contains(closedStatuses, strings.ToLower(r.Attr("eventStatus")))
}

// statusChanges: an event seen for the first time is opened (or closed, when it is already over);
// one whose content changed is changed, or closed when it has just ended.
func (s *Sink) statusChanges(b sink.Batch, marks, changed map[string]state.Mark, now time.Time) []event {
	var out []event
	for r := range b.Records() {
		if r.Kind() != record.KindEvent {
			continue
		}
		key := "event:" + r.EventKey()
		prev, seen := marks[key]
		hash := r.ID
		if isClosed(r) {
			hash = "closed:" + r.ID
		}
		if seen && prev.Hash == hash {
			continue // the same content: the state holds
		}
		var typ string
		switch {
		case isClosed(r) && (!seen || !strings.HasPrefix(prev.Hash, "closed:")):
			typ = TypeStatusClosed
		case !seen:
			typ = TypeStatusOpened
		default:
			typ = TypeStatusChanged
		}
		changed[key] = state.Mark{Hash: hash, Expires: now.Add(stateTTL)}
		marks[key] = changed[key]
		out = append(out, event{detailType: typ, time: r.Time, detail: map[string]any{
			"id":     eventID(b.Tenant, key, typ, r.ID),
			"tenant": b.Tenant, "key": key, "change": strings.ToLower(strings.TrimPrefix(typ, "Cloud ALM Status Event ")),
			"eventId": r.Attr("eventId"), "eventType": r.Attr("eventType"), "eventStatus": r.Attr("eventStatus"),
			"eventName": r.Attr("eventName"), "serviceName": r.Attr("serviceName"),
			"eventStartTime": r.Attr("eventStartTime"), "eventEndTime": r.Attr("eventEndTime"),
			"recordId": r.ID, "attributes": r.AttrMap(),
		}})
	}
	return out
}

// ruleChanges evaluates every rule of the batch's monitor on the latest point of each matching
// series in the window. Points not later than the series' last evaluated point (a re-delivered or
// back-filled window) change nothing.
func (s *Sink) ruleChanges(b sink.Batch, marks, changed map[string]state.Mark, now time.Time) []event {
	var out []event
	for _, rule := range s.Rules {
		if rule.Monitor != b.Monitor {
			continue
		}
		latest := map[string]record.Record{}
		for _, sr := range b.Series {
			if sr.Kind() != record.KindMetric || sr.Name() != rule.Metric || !rule.Matches(sr.LookupAttr) {
				continue
			}
			series := sr.PointID(time.Time{}) // the series' id: one whatever page its points came in
			for i, p := range sr.Points {
				if cur, ok := latest[series]; p.HasValue && (!ok || p.Time.After(cur.Time)) {
					latest[series] = sr.Record(i)
				}
			}
		}
		for _, series := range slices.Sorted(maps.Keys(latest)) {
			r := latest[series]
			key := "rule:" + rule.Name + ":" + series
			prevFiring, prevAt := parseRuleMark(marks[key])
			if !r.Time.After(prevAt) {
				continue
			}
			firing := rule.Holds(r.Value)
			hash := ruleMark(firing, r.Time)
			changed[key] = state.Mark{Hash: hash, Expires: now.Add(stateTTL)}
			if firing == prevFiring {
				continue
			}
			typ, st := TypeRuleCleared, "cleared"
			if firing {
				typ, st = TypeRuleFiring, "firing"
			}
			out = append(out, event{detailType: typ, time: r.Time, detail: map[string]any{
				"id":     eventID(b.Tenant, key, typ, r.Time.UTC().Format(time.RFC3339Nano)),
				"tenant": b.Tenant, "key": key, "rule": rule.Name, "state": st, "monitor": b.Monitor, "metric": r.Name(),
				"op": rule.Op, "threshold": *rule.Threshold, "value": r.Value, "unit": r.Unit(),
				"time": r.Time.UTC().Format(time.RFC3339Nano), "attributes": r.AttrMap(),
				"window": map[string]string{"from": b.From.UTC().Format(time.RFC3339), "to": b.To.UTC().Format(time.RFC3339)},
			}})
		}
	}
	return out
}

// ruleMark encodes a series' state: "firing|time" or "ok|time" of the last evaluated point.
func ruleMark(firing bool, at time.Time) string {
	st := "ok"
	if firing {
		st = "firing"
	}
	return st + "|" + at.UTC().Format(time.RFC3339Nano)
}

func parseRuleMark(m state.Mark) (firing bool, at time.Time) {
	st, ts, ok := strings.Cut(m.Hash, "|")
	if !ok {
		return false, time.Time{}
	}
	at, _ = time.Parse(time.RFC3339Nano, ts)
	return st == "firing", at
}

// eventID is the stable id of one change: the same change always has the same id, so a consumer
// can drop the copy a retried window may send.
func eventID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// put sends the events in order, as many per call as PutEvents' limits allow, retrying refused
// entries. An entry that alone reaches the size limit can never be put: it is refused for good
// (b.Refuse keeps it in the dead-letter place) and the others go on.
func (s *Sink) put(ctx context.Context, b sink.Batch, events []event) error {
	slices.SortStableFunc(events, func(a, b event) int { return a.time.Compare(b.time) })
	var entries []types.PutEventsRequestEntry
	var refused []sink.Refused
	for _, e := range events {
		detail, err := json.Marshal(e.detail)
		if err != nil {
			return fmt.Errorf("%s: encode event detail: %w", s.Name(), err)
		}
		entry := types.PutEventsRequestEntry{
			EventBusName: aws.String(s.Bus), Source: aws.String(Source), DetailType: aws.String(e.detailType),
			Detail: aws.String(string(detail)), Time: aws.Time(e.time),
		}
		if n := entrySize(entry); n >= putEventsMaxBytes {
			refused = append(refused, refusedEntry(entry, n))
			continue
		}
		entries = append(entries, entry)
	}
	total, invalid := len(entries), 0
	for len(entries) > 0 {
		n, size := 0, 0
		for n < len(entries) && n < putEventsLimit && size+entrySize(entries[n]) < putEventsMaxBytes {
			size += entrySize(entries[n])
			n++
		}
		bad, err := s.putEntries(ctx, entries[:n])
		if err != nil {
			return err
		}
		invalid += len(bad)
		refused = append(refused, bad...)
		entries = entries[n:]
	}
	if invalid > 0 && invalid == total {
		// Every entry refused as invalid: the fault is the sink's, not one event's; hold.
		return fmt.Errorf("%s: EventBridge refused each of %d events as invalid (first: %s); check the bus and the rules' events", s.Name(), total, refused[len(refused)-invalid].Reason)
	}
	return b.KeepRefused(ctx, s.Name(), refused)
}

// invalidEntryCodes are PutEvents entry errors about the entry itself, which sending it again
// cannot mend (EventBridge's PutEventsResultEntry): such an entry is refused for good. The other
// non-retryable codes (access, account) are about the sink and fail the batch.
var invalidEntryCodes = []string{"InvalidArgument", "MalformedDetail"}

// entrySize is the size EventBridge counts for an entry against PutEvents' limit: 14 bytes for
// the time, and the UTF-8 bytes of source, detail type, detail and each resource (the AWS
// guide's "Calculating PutEvents event entry size").
func entrySize(e types.PutEventsRequestEntry) int {
	n := len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	if e.Time != nil {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// refusedEntry is an entry too large for PutEvents, as the dead-letter place keeps it.
func refusedEntry(e types.PutEventsRequestEntry, size int) sink.Refused {
	return sink.Refused{Entry: entryJSON(e), Reason: fmt.Sprintf("the PutEvents entry is %d bytes; EventBridge takes entries totalling less than %d bytes per request", size, putEventsMaxBytes)}
}

// entryJSON is a PutEvents entry as the dead-letter place keeps it.
func entryJSON(e types.PutEventsRequestEntry) json.RawMessage {
	raw, _ := json.Marshal(map[string]any{
		"source": aws.ToString(e.Source), "detailType": aws.ToString(e.DetailType), "time": aws.ToTime(e.Time).UTC(),
		"detail": json.RawMessage(aws.ToString(e.Detail)),
	})
	return raw
}

// putEntries puts the entries, retrying those refused for a reason that may pass. It returns
// the entries refused as invalid (invalidEntryCodes), for the dead-letter place.
func (s *Sink) putEntries(ctx context.Context, entries []types.PutEventsRequestEntry) ([]sink.Refused, error) {
	var invalid []sink.Refused
	for attempt := 1; ; attempt++ {
		out, err := s.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil {
			return nil, fmt.Errorf("%s: put %d events: %w", s.Name(), len(entries), err)
		}
		if out.FailedEntryCount == 0 {
			return invalid, nil
		}
		var failed []types.PutEventsRequestEntry
		var reasons []error
		for i, res := range out.Entries {
			if res.ErrorCode == nil || i >= len(entries) {
				continue
			}
			code, msg := aws.ToString(res.ErrorCode), aws.ToString(res.ErrorMessage)
			if slices.Contains(invalidEntryCodes, code) {
				invalid = append(invalid, invalidEntry(entries[i], code, msg))
				continue
			}
			failed = append(failed, entries[i])
			reasons = append(reasons, fmt.Errorf("%s: %s", code, msg))
		}
		if len(failed) == 0 {
			return invalid, nil
		}
		if attempt == putAttempts {
			return nil, fmt.Errorf("%s: EventBridge refused %d of %d events after %d attempts: %w", s.Name(), len(failed), len(entries), attempt, errors.Join(reasons...))
		}
		entries = failed
	}
}

// invalidEntry is an entry EventBridge refused as invalid, as the dead-letter place keeps it.
func invalidEntry(e types.PutEventsRequestEntry, code, msg string) sink.Refused {
	return sink.Refused{Entry: entryJSON(e), Reason: fmt.Sprintf("EventBridge refused the entry: %s: %s", code, msg)}
}

func (s *Sink) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sink) logger() *slog.Logger { return cmp.Or(s.Logger, slog.Default()) }
