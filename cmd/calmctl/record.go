package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/transcript"
)

// recordFlags are the transcript flags of `calmctl test` and `calmctl collect`
// (docs/transcripts.md).
type recordFlags struct {
	dir, services, now string
}

func (f *recordFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dir, "record", "", "write every HTTP exchange with Cloud ALM and its token endpoint, redacted, as a transcript into this new directory (docs/transcripts.md)")
	fs.StringVar(&f.services, "redact-services", "", "with --record: comma list of service names to replace by pseudonyms in the transcript")
	fs.StringVar(&f.now, "now", "", "the collector's clock (RFC 3339), to replay a transcript with its recorded time (calmctl sim --replay prints it)")
}

// check names every problem of the flags.
func (f *recordFlags) check() []error {
	var problems []error
	if f.services != "" && f.dir == "" {
		problems = append(problems, fmt.Errorf("--redact-services needs --record DIR"))
	}
	if f.now != "" {
		if _, err := time.Parse(time.RFC3339, f.now); err != nil {
			problems = append(problems, fmt.Errorf("--now %q is not an RFC 3339 time like 2026-11-25T10:07:00Z", f.now))
		}
	}
	return problems
}

// clock is the run's clock: --now, else the time the run starts, fixed for the run.
func (f *recordFlags) clock() time.Time {
	if t, err := time.Parse(time.RFC3339, f.now); err == nil {
		return t.UTC()
	}
	return time.Now().UTC()
}

// create starts the transcript (nil when --record is not given); the settings' secret values
// are cut out of everything written.
func (f *recordFlags) create(secret []byte) (*transcript.Recorder, error) {
	if f.dir == "" {
		return nil, nil
	}
	var names []string
	for _, n := range strings.Split(f.services, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return transcript.Create(f.dir, transcript.Options{Secrets: calm.SecretValues(secret), Services: names})
}

// startRecording starts the record of a collection (nil when not recording): the state it
// starts from (a file store's, with the service-name pseudonyms, and without the API host its
// checkpoints name, so that a replay on another host may use it) and what it delivers.
func startRecording(rec *transcript.Recorder, store state.Store, s calm.Settings, now time.Time) (*collect.Recording, error) {
	if rec == nil {
		return nil, nil
	}
	rc := &collect.Recording{Recorder: rec, Now: now}
	host, _ := json.Marshal(collect.APIHost(s.URL))
	if fs, ok := store.(*state.FileStore); ok {
		copied, err := fs.Snapshot(s.Name, filepath.Join(rec.Dir(), transcript.StateDir), func(b []byte) []byte {
			return []byte(rec.Pseudonyms(strings.ReplaceAll(string(b), string(host), `""`)))
		})
		if err != nil {
			return nil, fmt.Errorf("--record: %w", err)
		}
		rc.State = copied
	}
	return rc, nil
}

// closeRecording writes the rest of a recorded collection's transcript (nothing when rc is nil).
func closeRecording(rc *collect.Recording, client *calm.Client, cfg collect.Config, backfill *collect.Range, sum collect.Summary, stderr io.Writer) {
	if rc == nil {
		return
	}
	if err := rc.Close(client, cfg, backfill, sum); err != nil {
		fmt.Fprintf(stderr, "calmctl collect: --record: %v\n", err)
		return
	}
	fmt.Fprintf(stderr, "transcript written to %s (docs/transcripts.md)\n", rc.Recorder.Dir())
}

// settingsOf are the non-secret settings of raw for a transcript (empty when they do not parse).
func settingsOf(raw []byte) transcript.Settings {
	s, _, err := calm.ParseSettings(raw)
	if err != nil {
		return transcript.Settings{}
	}
	return collect.TranscriptSettings(s)
}
