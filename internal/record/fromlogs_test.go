package record

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// testLogs builds two resources: the first with an exception log in a named scope (with
// severity, a shadowing attribute and an event name on its second record), the second with a
// nameless scope and a record that has only an observed timestamp and a map body.
func testLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	ra := rl.Resource().Attributes()
	ra.PutStr("serviceId", "svc-1")
	ra.PutStr("serviceName", "S4H.100")
	ra.PutStr("shared", "from-resource")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("sap.calm.exm")
	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(1500 * time.Millisecond)))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Minute)))
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.SetSeverityText("ERROR")
	lr.Body().SetStr("Runtime error MESSAGE_TYPE_X")
	lr.Attributes().PutStr("shared", "from-log")
	lr.Attributes().PutInt("count", 3)
	lr = sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(2 * time.Second)))
	lr.SetEventName("exception")
	lr.Body().SetStr("Update task terminated")

	rl = ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("serviceId", "svc-2")
	lr = rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(t0.Add(3 * time.Second)))
	lr.Body().SetEmptyMap().PutStr("program", "SAPLV45A")
	return ld
}

func logRecord(name string, at time.Time, body string, attrs map[string]string) Record {
	s := NewSeries("prod-eu10", "logs", KindLog, name, "", false, attrs)
	return Record{Series: s, Point: Point{ID: s.ContentID(at, body), Time: at, Body: body}}
}

func TestFromLogs(t *testing.T) {
	var got []Record
	if err := FromLogs("prod-eu10", "logs", testLogs(), func(r Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []Record{
		logRecord("sap.calm.exm", t0.Add(1500*time.Millisecond), "Runtime error MESSAGE_TYPE_X", map[string]string{
			"serviceId": "svc-1", "serviceName": "S4H.100", "shared": "from-log", "count": "3",
			"severityText": "ERROR", "severityNumber": "17"}),
		logRecord("exception", t0.Add(2*time.Second), "Update task terminated", map[string]string{
			"serviceId": "svc-1", "serviceName": "S4H.100", "shared": "from-resource"}),
		logRecord(DefaultLogName, t0.Add(3*time.Second), `{"program":"SAPLV45A"}`, map[string]string{"serviceId": "svc-2"}),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromLogs =\n%+v\nwant\n%+v", got, want)
	}
}

func TestFromLogsIDs(t *testing.T) {
	ids := func(ld plog.Logs) []string {
		var out []string
		_ = FromLogs("prod-eu10", "logs", ld, func(r Record) error { out = append(out, r.ID); return nil })
		return out
	}
	first := ids(testLogs())
	if again := ids(testLogs()); !reflect.DeepEqual(again, first) {
		t.Errorf("the same log lines served again got other ids: %v vs %v", again, first)
	}
	seen := map[string]bool{}
	for _, id := range first {
		if seen[id] || len(id) != 32 {
			t.Errorf("id %q repeated or not 32 hex digits", id)
		}
		seen[id] = true
	}
	for name, change := range map[string]func(plog.LogRecord){
		"body":      func(lr plog.LogRecord) { lr.Body().SetStr("other") },
		"time":      func(lr plog.LogRecord) { lr.SetTimestamp(lr.Timestamp() + 1) },
		"attribute": func(lr plog.LogRecord) { lr.Attributes().PutStr("categoryId", "x") },
		"severity":  func(lr plog.LogRecord) { lr.SetSeverityText("WARN") },
	} {
		ld := testLogs()
		change(ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0))
		if got := ids(ld); got[0] == first[0] || got[1] != first[1] {
			t.Errorf("changed %s: ids %v, want only the first to change from %v", name, got, first)
		}
	}
	// The observed timestamp counts only when there is no timestamp.
	ld := testLogs()
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).SetObservedTimestamp(0)
	if got := ids(ld); got[0] != first[0] {
		t.Errorf("the observed timestamp changed the id of a record that has a timestamp")
	}
}

func TestFromLogsStopsAtError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := FromLogs("t", "logs", testLogs(), func(Record) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d records, want stop after 1", err, n)
	}
	if err := FromLogs("t", "logs", plog.NewLogs(), func(Record) error { t.Error("record from empty logs"); return nil }); err != nil {
		t.Error(err)
	}
}

func TestLogRecordJSON(t *testing.T) {
	r := logRecord("sap.calm.exm", t0.Add(1500*time.Millisecond), "boom \"quoted\"", map[string]string{"serviceId": "svc-1"})
	b := AppendJSON(nil, &r)
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("round trip of %s =\n%+v\nwant\n%+v", b, back, r)
	}
}
