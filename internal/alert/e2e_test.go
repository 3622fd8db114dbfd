package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/calm-collector/calm-collector/internal/alert/rules"
	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

var quiet = slog.New(slog.DiscardHandler)

// e2eRules fire on any critical health rating, and on a warning of one service (an attribute match).
var e2eRules = []rules.Rule{
	{Name: "critical", Monitor: "hm", Metric: "criticalStatus", Op: ">", Threshold: ptr(0)},
	{Name: "S4H warning", Monitor: "hm", Metric: "warningStatus", Match: map[string]string{"serviceName": "S4H.200"}, Op: ">=", Threshold: ptr(1)},
}

func runTimes() []time.Time {
	s := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)
	return []time.Time{s, s.Add(20 * time.Minute), s.Add(45 * time.Minute)}
}
func newRunner(t *testing.T, srv *sim.Server, store collect.Store, c *testkit.Clock, sinks ...collect.Sink) *collect.Runner {
	t.Helper()
	api, err := collect.Connect(srv.ConnectorJSON(), "", collect.ClientOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cfg := collect.DefaultConfig()
	cfg.Monitors = []string{"hm", "status"}
	return (&collect.Runner{Config: cfg, Store: store, Sinks: sinks, Owner: "alert-e2e", Now: c.Now, Logger: quiet}).For(api)
}

// counting counts the entries put through it.
type counting struct {
	EventsAPI
	n int
}

func (c *counting) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	c.n += len(in.Entries)
	return c.EventsAPI.PutEvents(ctx, in, optFns...)
}

// crashAfter fails the first delivery of an hm window for which the alert sink before it has put
// events (and saved its state): the checkpoint does not move, the next run delivers the window again.
type crashAfter struct {
	events *counting
	last   int
	done   bool
}

func (c *crashAfter) Name() string { return "crash" }
func (c *crashAfter) Write(_ context.Context, b sink.Batch) error {
	put := c.events.n > c.last
	c.last = c.events.n
	if !c.done && put && b.Monitor == "hm" {
		c.done = true
		return errors.New("killed between delivery and checkpoint")
	}
	return nil
}

// flakyMarks fails the first save of an hm alert state with a firing series: the events were put,
// the state was not saved.
type flakyMarks struct {
	collect.Store
	failed bool
}

func (f *flakyMarks) PutMarks(ctx context.Context, tenant, monitor string, now time.Time, marks map[string]state.Mark) error {
	if !f.failed && monitor == "alert.hm" && slices.ContainsFunc(slices.Collect(maps.Values(marks)), func(m state.Mark) bool { return strings.HasPrefix(m.Hash, "firing|") }) {
		f.failed = true
		return errors.New("connection reset")
	}
	return f.Store.PutMarks(ctx, tenant, monitor, now, marks)
}

// reference runs the three collections without any failure and returns the events, by detail id.
func reference(t *testing.T, srv *sim.Server, c *testkit.Clock) []string {
	t.Helper()
	store, err := state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	r := newRunner(t, srv, store, c, &Sink{Bus: "ref", Events: rec, Store: store, Rules: e2eRules, Now: c.Now, Logger: quiet})
	for _, at := range runTimes() {
		c.Set(at)
		r.Run(context.Background(), collect.Request{})
	}
	var out []string
	for _, e := range rec.got {
		out = append(out, eventKey(t, *e.DetailType, *e.Detail))
	}
	return out
}

func eventKey(t *testing.T, detailType, detail string) string {
	t.Helper()
	var d struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(detail), &d); err != nil || d.ID == "" {
		t.Fatalf("detail %s: no id (%v)", detail, err)
	}
	return detailType + " " + d.ID
}

// End to end on moto: the collector's runs put their events on a bus whose rule sends them to an
// SQS queue. Across three runs, with the process killed between delivery and checkpoint once, the
// queue receives exactly the events of an undisturbed reference; when the state cannot be saved
// after the events were put, the window's events come again with the same ids, and nothing else.
func TestEventsReachAnSQSTargetExactlyOnceAcrossRunsAndCrashes(t *testing.T) {
	ctx := context.Background()
	m := awstest.Moto(t)
	cfg := m.AWSConfig(ctx)
	events, queues := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	srv := sim.StartTest(t, sim.Config{Now: func() time.Time { return runTimes()[0] }})

	c := &testkit.Clock{}
	want := reference(t, srv, c)
	kinds := map[string]int{}
	for _, k := range want {
		kinds[k[:len(k)-33]]++
	}
	for _, typ := range []string{TypeRuleFiring, TypeRuleCleared, TypeStatusOpened} {
		if kinds[typ] == 0 {
			t.Fatalf("the reference has no %q event (%v): the scenario proves nothing", typ, kinds)
		}
	}
	t.Logf("reference events: %v", kinds)

	for i, tc := range []struct {
		name  string
		crash bool // killed between delivery and checkpoint
		flaky bool // the alert state not saved after the events were put
	}{{"killed between delivery and checkpoint", true, false}, {"state not saved after the events were put", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			bus, queue := fmt.Sprintf("calm-%d", i), fmt.Sprintf("calm-alerts-%d", i)
			url := awstest.BusToQueue(t, events, queues, bus, queue, Source)
			var store collect.Store = state.NewDynamoStore(m.DynamoClient(), dynamoTable(t, m, fmt.Sprintf("alert-e2e-%d", i)))
			if tc.flaky {
				store = &flakyMarks{Store: store}
			}
			put := &counting{EventsAPI: events}
			sinks := []collect.Sink{&Sink{Bus: bus, Events: put, Store: store, Rules: e2eRules, Now: c.Now, Logger: quiet}}
			if tc.crash {
				sinks = append(sinks, &crashAfter{events: put})
			}
			r := newRunner(t, srv, store, c, sinks...)
			for _, at := range runTimes() {
				c.Set(at)
				r.Run(ctx, collect.Request{})
			}
			got := receive(t, queues, url)
			for typ, body := range examples {
				t.Logf("example %s: %s", typ, body)
			}
			if tc.crash {
				if crash := sinks[1].(*crashAfter); !crash.done {
					t.Fatal("the crash was never injected")
				}
				if !slices.Equal(sorted(got), sorted(want)) {
					t.Errorf("the queue received %d events, the reference %d:\nextra %v\nmissing %v", len(got), len(want), minus(got, want), minus(want, got))
				}
				return
			}
			if !store.(*flakyMarks).failed {
				t.Fatal("the state failure was never injected")
			}
			extra := minus(got, want)
			if missing := minus(want, got); len(missing) > 0 {
				t.Errorf("missing events: %v", missing)
			}
			for _, e := range extra {
				if !slices.Contains(want, e) {
					t.Errorf("event %s is not a copy of a reference event", e)
				}
			}
			if len(extra) == 0 {
				t.Error("no event came again after the failed save: the scenario proves nothing")
			}
			t.Logf("%d events, %d of them again with the same id after the failed save", len(got), len(extra))
		})
	}
}

func dynamoTable(t *testing.T, m *awstest.MotoServer, name string) string {
	t.Helper()
	if err := state.CreateTable(context.Background(), m.DynamoClient(), name); err != nil {
		t.Fatal(err)
	}
	return name
}

// examples keeps one message per detail type (go test -v shows them; docs/alerts.md quotes them).
var examples = map[string]string{}

// receive drains the queue and returns "detail-type id" per message.
func receive(t *testing.T, queues *sqs.Client, url string) []string {
	t.Helper()
	var out []string
	for _, body := range awstest.DrainQueue(t, queues, url) {
		var ev struct {
			Source     string          `json:"source"`
			DetailType string          `json:"detail-type"`
			Detail     json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatalf("message %s: %v", body, err)
		}
		if ev.Source != Source {
			t.Errorf("message source %q", ev.Source)
		}
		out = append(out, eventKey(t, ev.DetailType, string(ev.Detail)))
		if examples[ev.DetailType] == "" {
			examples[ev.DetailType] = body
		}
	}
	return out
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// minus returns a without one b for each element of b (multiset difference).
func minus(a, b []string) []string {
	left := map[string]int{}
	for _, x := range b {
		left[x]++
	}
	var out []string
	for _, x := range a {
		if left[x] > 0 {
			left[x]--
			continue
		}
		out = append(out, x)
	}
	return out
}
