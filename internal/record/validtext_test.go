package record

import (
	"encoding/json"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
)

// ValidText must give the text encoding/json (and so a record's JSON line) writes for s: one
// U+FFFD per invalid byte, valid text unchanged.
func TestValidTextIsWhatTheLineCarries(t *testing.T) {
	for _, s := range []string{"", "cpu", "ünïcode ✓", "\xe7", "a\xe7\xe8b", "\xf0\x9f\x98", "ok\xffok\u2028"} {
		line, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var want string
		if err := json.Unmarshal(line, &want); err != nil {
			t.Fatal(err)
		}
		if got := ValidText(s); got != want {
			t.Errorf("ValidText(%q) = %q, want %q (what encoding/json writes)", s, got, want)
		}
	}
}

// A log record with invalid UTF-8 in its name, attributes and body decodes back from its line
// to the same record.
func TestFromLogsInvalidUTF8RoundTrips(t *testing.T) {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetEventName("job\xe7")
	lr.Attributes().PutStr("k\xe8", "v\xff")
	lr.Body().SetStr("body \xe7")
	var recs []Record
	if err := FromLogs("tenant", "logs", ld, func(r Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	back, err := Decode(AppendJSON(nil, &r))
	if err != nil {
		t.Fatal(err)
	}
	if back.Name() != r.Name() || back.Body != r.Body || back.NumAttrs() != r.NumAttrs() {
		t.Fatalf("does not round-trip:\n %+v\n %+v", r, back)
	}
	for k, v := range r.Attrs() {
		if back.Attr(k) != v {
			t.Errorf("attribute %q = %q came back as %q", k, v, back.Attr(k))
		}
	}
}
