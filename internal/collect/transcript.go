package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/transcript"
)

// RecordedRun is the "run" of a collect transcript (docs/transcripts.md): what a replay needs
// to run the collection again.
type RecordedRun struct {
	Config   Config `json:"config"`
	Backfill *Range `json:"backfill,omitempty"`
	// Host is the tenant's API host, which the checkpoints of the run's state name.
	Host string `json:"host"`
}

// RecordingConcurrency is the Config.Concurrency of a recorded run: what one monitor learns of
// the tenant (that it refuses protobuf-binary, say) changes what the next one asks, so monitors
// are collected one at a time, in the order a replay of the transcript follows too.
const RecordingConcurrency = 1

// Recording records a collection run as a transcript: pass Recorder in ClientOptions, add Sink
// to the run's sinks (last: it counts what every sink accepted), and Close after the run.
type Recording struct {
	Recorder *transcript.Recorder
	Now      time.Time
	// Source names a simulator setup (transcript.Meta.Source); "" for a tenant.
	Source string
	// State says that the transcript's state directory holds the state the run started from.
	State  bool
	expect transcript.Expect
}

// Sink counts the records the run delivered for the transcript's expected.json.
func (rc *Recording) Sink() Sink { return expectSink{rc} }

type expectSink struct{ rc *Recording }

func (s expectSink) Name() string { return "transcript" }

func (s expectSink) Write(_ context.Context, b sink.Batch) error {
	var line []byte
	for r := range b.Records() {
		r := s.rc.pseudonymous(r)
		line = record.AppendJSON(line[:0], &r)
		s.rc.expect.Add(r.ID, line)
	}
	return nil
}

// pseudonymous is r as the transcript's service-name pseudonyms make it: the record a replay
// delivers (with its id taken again as the collector takes it, PointID for data points,
// SpanRecordID for spans and ContentID for events and logs).
func (rc *Recording) pseudonymous(r record.Record) record.Record {
	if rc.Recorder.Services() == 0 {
		return r
	}
	p := rc.Recorder.Pseudonyms
	attrs := r.AttrMap()
	for k, v := range attrs {
		attrs[k] = p(v)
	}
	r.Series = record.NewSeries(r.Tenant(), r.Monitor(), r.Kind(), p(r.Name()), r.Unit(), r.Count(), attrs)
	r.Body = p(r.Body)
	switch r.Kind() {
	case record.KindMetric:
		r.ID = r.PointID(r.Time)
	case record.KindSpan:
		r.ID = record.SpanRecordID(r.Tenant(), r.Monitor(), attrs[record.AttrTraceID], attrs[record.AttrSpanID])
	default:
		r.ID = r.ContentID(r.Time, r.Body)
	}
	return r
}

// Outcomes maps each monitor of a run to "ok" or "failed" (transcript.Expected.Monitors).
func Outcomes(sum Summary) map[string]string {
	out := make(map[string]string, len(sum.Monitors))
	for _, m := range sum.Monitors {
		out[m.Monitor] = "ok"
		if m.Error != "" {
			out[m.Monitor] = "failed"
		}
	}
	return out
}

// Close writes the transcript's expected.json and transcript.json for the run sum of client
// with cfg (and backfill, when it was one).
func (rc *Recording) Close(client *calm.Client, cfg Config, backfill *Range, sum Summary) error {
	s := client.Settings()
	run, err := json.Marshal(RecordedRun{Config: cfg, Backfill: backfill, Host: APIHost(s.URL)})
	if err != nil {
		return fmt.Errorf("record the run: %w", err)
	}
	exp := rc.expect.Result()
	exp.Monitors = Outcomes(sum)
	werr := rc.Recorder.WriteJSON(transcript.ExpectedFile, exp)
	cerr := rc.Recorder.Close(transcript.Meta{Command: "collect", Recorded: time.Now().UTC(), Now: rc.Now.UTC(),
		Settings: TranscriptSettings(s), Run: run, Source: rc.Source, State: rc.State})
	if werr != nil {
		return werr
	}
	return cerr
}

// TranscriptSettings are the non-secret settings a transcript keeps.
func TranscriptSettings(s calm.Settings) transcript.Settings {
	ct := "binding-secret"
	if s.IsX509() {
		ct = "x509"
	}
	return transcript.Settings{Name: s.Name, URL: s.URL, AuthenticationServer: s.AuthenticationServer, ClientID: s.ClientID, CredentialType: ct}
}
