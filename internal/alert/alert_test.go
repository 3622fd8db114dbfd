package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/calm-collector/calm-collector/internal/alert/rules"
	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
)

// TestMain stops the shared moto_server after the tests.
func TestMain(m *testing.M) { awstest.Main(m) }

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// recorder is an EventsAPI that keeps what it was given; refuse, when set, refuses entries.
type recorder struct {
	got    []types.PutEventsRequestEntry
	refuse func(i int, e types.PutEventsRequestEntry) bool
	code   string // the refused entries' error code ("": InternalFailure, which may pass)
}

func (r *recorder) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	out := &eventbridge.PutEventsOutput{}
	for i, e := range in.Entries {
		if r.refuse != nil && r.refuse(i, e) {
			out.FailedEntryCount++
			code := r.code
			if code == "" {
				code = "InternalFailure"
			}
			out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("try again")})
			continue
		}
		r.got = append(r.got, e)
		out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String(fmt.Sprint(len(r.got)))})
	}
	return out, nil
}

// seen returns "detail-type key" per event put, key = the rule's series service or the status event id.
func (r *recorder) seen(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, e := range r.got {
		var d map[string]any
		if err := json.Unmarshal([]byte(*e.Detail), &d); err != nil {
			t.Fatal(err)
		}
		key, _ := d["eventId"].(string)
		if key == "" {
			key = d["attributes"].(map[string]any)["serviceName"].(string)
		}
		out = append(out, *e.DetailType+" "+key)
	}
	return out
}

func metric(svc string, at time.Time, v float64) record.Record {
	attrs := map[string]string{"serviceName": svc, "metricName": "CPU"}
	return record.Record{Series: record.NewSeries("t", "hm", record.KindMetric, "criticalStatus", "", false, attrs), Point: record.Point{ID: record.PointID("t", "hm", "criticalStatus", attrs, at), Time: at, Value: v, HasValue: true}}
}

func statusEvent(id, status string) record.Record {
	attrs := map[string]string{"eventId": id, "eventStatus": status, "serviceName": "S4H", "eventType": "Disruption"}
	s := record.NewSeries("t", "status", record.KindEvent, "status_event", "", false, attrs)
	return record.Record{Series: s, Point: record.Point{ID: s.ContentID(t0, ""), Time: t0}}
}

func window(monitor string, i int, recs ...record.Record) sink.Batch {
	from := t0.Add(time.Duration(i) * 5 * time.Minute)
	return sink.Batch{Tenant: "t", Monitor: monitor, From: from, To: from.Add(5 * time.Minute), Series: record.Runs(recs)}
}

func at(i int) time.Time { return t0.Add(time.Duration(i) * 5 * time.Minute) }

func ptr(f float64) *float64 { return &f }

var critical = rules.Rule{Name: "critical S1", Monitor: "hm", Metric: "criticalStatus", Match: map[string]string{"serviceName": "S1"}, Op: ">", Threshold: ptr(0)}

// stores are the two state stores; the alert state must behave the same in both.
func stores(t *testing.T) map[string]Store {
	t.Helper()
	file, err := state.NewFileStore(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	m := awstest.Moto(t)
	table := "alert-" + filepath.Base(t.Name())
	if err := state.CreateTable(context.Background(), m.DynamoClient(), table); err != nil {
		t.Fatal(err)
	}
	return map[string]Store{"file": file, "dynamodb": state.NewDynamoStore(m.DynamoClient(), table)}
}

// One event per change, never repeated while the state holds, in both stores: a rule fires and
// clears on the latest point per series, a re-delivered window changes nothing, no data is no
// clearing; status events open, change and close.
func TestOneEventPerChangeInBothStores(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rec := &recorder{}
			s := &Sink{Bus: "calm", Events: rec, Store: store, Rules: []rules.Rule{critical}, Now: func() time.Time { return t0 }}
			write := func(b sink.Batch) {
				t.Helper()
				if err := s.Write(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			write(window("hm", 0, metric("S1", at(0), 0), metric("S2", at(0), 1)))                  // ok; S2 is not matched
			write(window("hm", 1, metric("S1", at(1), 0), metric("S1", at(1).Add(time.Minute), 1))) // the latest point fires
			write(window("hm", 2, metric("S1", at(2), 1)))                                          // still firing
			write(window("hm", 1, metric("S1", at(1), 0), metric("S1", at(1).Add(time.Minute), 1))) // re-delivered
			write(window("hm", 3))                                                                  // no data: no change
			write(window("hm", 4, metric("S1", at(4), 0)))                                          // clears
			write(window("hm", 5, metric("S1", at(5), 2)))                                          // fires again

			write(window("status", 0, statusEvent("E1", "Open")))
			write(window("status", 1, statusEvent("E1", "Open")))
			write(window("status", 2, statusEvent("E1", "InProgress"), statusEvent("E2", "Resolved")))
			write(window("status", 3, statusEvent("E1", "Resolved")))
			write(window("status", 4, statusEvent("E1", "Resolved"), statusEvent("E2", "Resolved")))

			want := []string{
				TypeRuleFiring + " S1", TypeRuleCleared + " S1", TypeRuleFiring + " S1",
				TypeStatusOpened + " E1", TypeStatusChanged + " E1", TypeStatusClosed + " E2", TypeStatusClosed + " E1",
			}
			if got := rec.seen(t); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("events =\n%q\nwant\n%q", got, want)
			}
			for _, e := range rec.got {
				if *e.Source != Source || *e.EventBusName != "calm" {
					t.Errorf("event source %s bus %s", *e.Source, *e.EventBusName)
				}
			}
		})
	}
}

// failingStore fails PutMarks when fail is set: a crash after the events were put.
type failingStore struct {
	Store
	fail bool
}

func (f *failingStore) PutMarks(ctx context.Context, tenant, monitor string, now time.Time, marks map[string]state.Mark) error {
	if f.fail {
		return errors.New("connection reset")
	}
	return f.Store.PutMarks(ctx, tenant, monitor, now, marks)
}

// Refused entries are retried; a state that cannot be saved fails the window, and its retry puts
// the same events with the same ids, once.
func TestRetriesAndStableIDs(t *testing.T) {
	ctx := context.Background()
	file, err := state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	rec := &recorder{refuse: func(i int, _ types.PutEventsRequestEntry) bool {
		if i == 0 && refused < 1 {
			refused++
			return true
		}
		return false
	}}
	store := &failingStore{Store: file, fail: true}
	s := &Sink{Bus: "calm", Events: rec, Store: store, Rules: []rules.Rule{critical}, Now: func() time.Time { return t0 }}
	b := window("hm", 0, metric("S1", at(0), 1))
	if err := s.Write(ctx, b); err == nil || refused != 1 {
		t.Fatalf("Write with a failing state store = %v (refused %d)", err, refused)
	}
	store.fail = false
	for range 2 {
		if err := s.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.got) != 2 || *rec.got[0].Detail != *rec.got[1].Detail {
		t.Fatalf("want the same event twice (once per attempt), got %d: %v", len(rec.got), rec.seen(t))
	}

	always := &recorder{refuse: func(int, types.PutEventsRequestEntry) bool { return true }}
	s = &Sink{Bus: "calm", Events: always, Store: file, Rules: []rules.Rule{critical}, Now: func() time.Time { return t0 }}
	if err := s.Write(ctx, window("hm", 1, metric("S1", at(1), 0))); err == nil {
		t.Fatal("events refused every time must fail the window")
	} else if want := "eventbridge:calm: EventBridge refused 1 of 1 events after 3 attempts: InternalFailure: try again"; err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

// TestInvalidEntryIsDeadLetteredAlone: an entry EventBridge refuses as invalid (MalformedDetail,
// InvalidArgument) is not sent again: it goes to the dead-letter place and the other events of
// the window are put. When every entry is refused so, or for the sink's own reason (access), the
// window fails instead.
func TestInvalidEntryIsDeadLetteredAlone(t *testing.T) {
	ctx := context.Background()
	file, err := state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	poisoned := func(_ int, e types.PutEventsRequestEntry) bool { return strings.Contains(*e.Detail, `"E2"`) }
	rec := &recorder{refuse: poisoned, code: "MalformedDetail"}
	s := &Sink{Bus: "calm", Events: rec, Store: file, Now: func() time.Time { return t0 }}
	b := window("status", 0, statusEvent("E1", "Open"), statusEvent("E2", "Open"), statusEvent("E3", "Open"))
	var kept []sink.Refused
	b.Refuse = func(_ context.Context, _ string, items []sink.Refused) error {
		kept = append(kept, items...)
		return nil
	}
	if err := s.Write(ctx, b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if got := rec.seen(t); len(got) != 2 || !slices.Contains(got, "Cloud ALM Status Event Opened E1") || !slices.Contains(got, "Cloud ALM Status Event Opened E3") {
		t.Errorf("put %v, want E1 and E3", got)
	}
	if len(kept) != 1 || !strings.Contains(string(kept[0].Entry), `"E2"`) || !strings.Contains(kept[0].Reason, "MalformedDetail") {
		t.Errorf("dead-lettered %+v, want E2 alone, refused as MalformedDetail", kept)
	}

	for _, code := range []string{"MalformedDetail", "AccessDeniedException"} {
		all := &recorder{refuse: func(int, types.PutEventsRequestEntry) bool { return true }, code: code}
		s := &Sink{Bus: "calm", Events: all, Store: file, Now: func() time.Time { return t0 }}
		b := window("status", 1, statusEvent("E4", "Open"))
		kept = nil
		b.Refuse = func(_ context.Context, _ string, items []sink.Refused) error {
			kept = append(kept, items...)
			return nil
		}
		if err := s.Write(ctx, b); err == nil || !strings.Contains(err.Error(), code) || len(kept) != 0 {
			t.Errorf("%s for every entry: Write = %v, dead-lettered %d; want the window failed, naming it", code, err, len(kept))
		}
	}
}
