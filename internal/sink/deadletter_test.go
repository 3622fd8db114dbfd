package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/record"
)

func limitBatch() Batch {
	from := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return Batch{Tenant: "t1", Monitor: "status", From: from, To: from.Add(5 * time.Minute), Series: record.Runs([]record.Record{
		{Series: record.NewSeries("t1", "status", record.KindEvent, "e", "", false, map[string]string{"d": "short"}), Point: record.Point{ID: "a", Time: from}},
		{Series: record.NewSeries("t1", "status", record.KindEvent, "e", "", false, map[string]string{"d": strings.Repeat("x", 2000)}), Point: record.Point{ID: "b", Time: from}},
		{Series: record.NewSeries("t1", "status", record.KindEvent, "e", "", false, map[string]string{"d": "short too"}), Point: record.Point{ID: "c", Time: from}},
	})}
}

// Without a dead-letter place, a record too long for the writer's destination fails the batch
// (the window holds; nothing is dropped silently), after the others were written.
func TestWriterLineLimitWithoutDeadLetterFails(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter("stdout", &out)
	w.MaxLine = 1000
	err := w.Write(context.Background(), limitBatch())
	var re *RefusedError
	if !errors.As(err, &re) || len(re.Items) != 1 || re.Items[0].Record.ID != "b" {
		t.Fatalf("err %v, want a RefusedError for record b", err)
	}
	if !strings.Contains(err.Error(), "CALM_DEAD_LETTER") {
		t.Errorf("error %q does not say how to set a dead-letter place", err)
	}
	if n := strings.Count(out.String(), "\n"); n != 2 || strings.Contains(out.String(), `"id":"b"`) {
		t.Errorf("stdout:\n%s\nwant records a and c only", out.String())
	}
}

// With a file dead-letter place the refused record is kept whole, with its window and reason,
// and the batch succeeds.
func TestWriterLineLimitKeepsTheRecordInAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dl", "deadletter.ndjson")
	dl, err := OpenDeadLetter(path, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close(context.Background())
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the file exists before any refusal (%v)", err)
	}
	b := limitBatch()
	b.Refuse = func(ctx context.Context, sink string, items []Refused) error { return dl.Keep(ctx, b, sink, items) }
	var out bytes.Buffer
	w := NewWriter("stdout", &out)
	w.MaxLine = 1000
	if err := w.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var line struct {
		Tenant, Monitor, From, To, Sink, Reason string
		Record                                  record.Record
	}
	if err := json.Unmarshal(raw, &line); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if line.Tenant != "t1" || line.Sink != "stdout" || line.From != "2026-11-25T10:00:00Z" || line.Record.ID != "b" ||
		len(line.Record.Attr("d")) != 2000 || !strings.Contains(line.Reason, "over the 1000 bytes") {
		t.Errorf("dead-letter line %+v", line)
	}
}

func TestOpenDeadLetterRefusesPlacesThatAreNotKept(t *testing.T) {
	for _, raw := range []string{"stdout", "-", "otlp+https://collector.example.com"} {
		if _, err := OpenDeadLetter(raw, Deps{}); err == nil || !strings.Contains(err.Error(), "must be kept") {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

// A window kept twice (its delivery retried) lands on the same key; another sink on another.
func TestS3DeadLetterKeyIsOnePerWindowAndSink(t *testing.T) {
	d := &S3DeadLetter{Bucket: "b", Prefix: "deadletter"}
	b := limitBatch()
	k := d.Key(b, "eventbridge:calm")
	if want := "deadletter/tenant=t1/monitor=status/dt=2026-11-25/20261125T100000Z-20261125T100500Z.eventbridge-"; !strings.HasPrefix(k, want) {
		t.Errorf("key %s, want prefix %s", k, want)
	}
	if d.Key(b, "eventbridge:calm") != k || d.Key(b, "eventbridge:other") == k {
		t.Error("keys are not one per window and sink")
	}
}

// Late data of a window (Batch.Late) is a batch of its own: its refused items are kept beside the
// window's, never over them, and late batches after different numbers of points apart.
func TestS3DeadLetterKeyOfLateDataIsBesideTheWindows(t *testing.T) {
	d := &S3DeadLetter{Bucket: "b", Prefix: "deadletter"}
	b := limitBatch()
	window := d.Key(b, "eventbridge:calm")
	b.Late, b.Before = true, 3
	late := d.Key(b, "eventbridge:calm")
	if late == window {
		t.Fatalf("a late batch's key %s is its window's", late)
	}
	if want := "deadletter/tenant=t1/monitor=status/dt=2026-11-25/20261125T100000Z-20261125T100500Z-late3.eventbridge-"; !strings.HasPrefix(late, want) {
		t.Errorf("late key %s, want prefix %s", late, want)
	}
	if d.Key(b, "eventbridge:calm") != late {
		t.Error("a late batch kept again does not land on its own key")
	}
	b.Before = 5
	if d.Key(b, "eventbridge:calm") == late {
		t.Error("late batches after 3 and after 5 points share a key")
	}
}
