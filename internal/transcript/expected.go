package transcript

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Expected is what a recorded collection delivered, written at recording time from the
// records the run's sinks accepted: the replay of the transcript must deliver exactly these.
type Expected struct {
	Version int `json:"version"`
	// Records counts the records delivered (a record delivered twice counts twice).
	Records int `json:"records"`
	// Digest is the SHA-256 of the sorted "id hash" lines of IDs.
	Digest string `json:"digest"`
	// IDs maps each record id to the SHA-256 of its NDJSON line (docs/design.md §4).
	IDs map[string]string `json:"ids"`
	// Monitors maps each monitor the run collected to "ok" or "failed": a replay that fails a
	// monitor the recorded run did not (or runs other monitors) is not exact, even when neither
	// delivered anything.
	Monitors map[string]string `json:"monitors,omitempty"`
}

// Expect gathers an Expected. It is safe for concurrent use.
type Expect struct {
	mu  sync.Mutex
	n   int
	ids map[string]string
}

// Add counts one delivered record: its id and its NDJSON line.
func (e *Expect) Add(id string, line []byte) {
	h := sha256.Sum256(line)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ids == nil {
		e.ids = map[string]string{}
	}
	e.n++
	e.ids[id] = hex.EncodeToString(h[:])
}

// Result returns what was added.
func (e *Expect) Result() Expected {
	e.mu.Lock()
	defer e.mu.Unlock()
	ids := maps.Clone(e.ids)
	if ids == nil {
		ids = map[string]string{}
	}
	return Expected{Version: Version, Records: e.n, Digest: digest(ids), IDs: ids}
}

func digest(ids map[string]string) string {
	h := sha256.New()
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		fmt.Fprintf(h, "%s %s\n", id, ids[id])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Diff lists how got differs from want: missing and extra ids, ids whose content differs, and
// counts; nil when they are equal.
func (want Expected) Diff(got Expected) []string {
	var out []string
	if want.Records != got.Records {
		out = append(out, fmt.Sprintf("%d records delivered, %d recorded", got.Records, want.Records))
	}
	for _, id := range slices.Sorted(maps.Keys(want.IDs)) {
		switch g, ok := got.IDs[id]; {
		case !ok:
			out = append(out, "missing "+id)
		case g != want.IDs[id]:
			out = append(out, "content differs "+id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(got.IDs)) {
		if _, ok := want.IDs[id]; !ok {
			out = append(out, "extra "+id)
		}
	}
	if want.Monitors != nil {
		for _, m := range slices.Sorted(maps.Keys(want.Monitors)) {
			if got.Monitors[m] != want.Monitors[m] {
				out = append(out, fmt.Sprintf("monitor %s %s, recorded %s", m, cmpOr(got.Monitors[m], "not run"), want.Monitors[m]))
			}
		}
		for _, m := range slices.Sorted(maps.Keys(got.Monitors)) {
			if _, ok := want.Monitors[m]; !ok {
				out = append(out, fmt.Sprintf("monitor %s %s, not in the recorded run", m, got.Monitors[m]))
			}
		}
	}
	if len(out) == 0 && want.Digest != got.Digest {
		out = append(out, "digest differs: "+got.Digest+", recorded "+want.Digest)
	}
	return out
}

func cmpOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
