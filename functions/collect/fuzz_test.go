package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/monitor"
)

// FuzzParseInput: any invocation event is either refused with an error naming what is wrong,
// or read into monitors that exist and a backfill range whose start is before its end.
func FuzzParseInput(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, ``, `{"monitors":["hm","jam"]}`, `{"connector":"prod"}`,
		`{"backfill":{"from":"2026-11-25T00:00:00Z","to":"2026-11-25T06:00:00Z","monitors":["hm"]}}`,
		`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","account":"1","time":"2026-11-25T10:00:00Z","region":"us-east-1","resources":[],"detail":{}}`,
		`{"detail-type":"Scheduled Event","detail":{"detail-type":"Scheduled Event","detail":{"monitors":["nope"]}}}`,
		`{"backfill":{"from":"2026-11-25T06:00:00Z","to":"2026-11-25T00:00:00Z"}}`,
		`{"monitors":["hm"]}{"monitors":[]}`, `[1,2]`, `{"monitors":"hm"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, rng, err := ParseInput(raw)
		if err != nil {
			if err.Error() == "" || rng != nil {
				t.Fatalf("error %q with range %v", err, rng)
			}
			return
		}
		monitors := in.Monitors
		if in.Backfill != nil {
			if rng == nil || !rng.From.Before(rng.To) {
				t.Fatalf("backfill accepted with range %v", rng)
			}
			monitors = in.Backfill.Monitors
		} else if rng != nil {
			t.Fatalf("range %v without a backfill", rng)
		}
		for _, m := range monitors {
			if m != collect.AutoMonitors && collect.Lookup(m) == nil && !monitor.IsDefinitionID(m) {
				t.Fatalf("unknown monitor %q accepted", m)
			}
		}
		if _, err := json.Marshal(in); err != nil && !strings.Contains(err.Error(), "unsupported") {
			t.Fatalf("accepted input does not encode: %v", err)
		}
	})
}
