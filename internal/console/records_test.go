package console

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func recLine(tenant, monitor string, t time.Time) string {
	return fmt.Sprintf(`{"id":"x","tenant":%q,"monitor":%q,"kind":"metric","name":"m","time":%q,"value":1}`+"\n", tenant, monitor, t.Format(time.RFC3339))
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestRecordCountsStreamIncrementally(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "r.ndjson")
	a := newRecordCounts(path, 5*time.Minute)
	k := seriesKey{"prod", "hm"}

	got, _, err := a.snapshot(now)
	if err != nil || len(got) != 0 {
		t.Fatalf("missing file: %v, %v", got, err)
	}
	w1 := now.Add(-10 * time.Minute) // window 11:50
	appendFile(t, path, recLine("prod", "hm", w1)+recLine("prod", "hm", w1.Add(time.Minute)))
	// A line still being written (no newline yet) is not counted, nor lost.
	partial := recLine("prod", "hm", w1)
	appendFile(t, path, partial[:20])
	got, _, _ = a.snapshot(now)
	if got[k].Total != 2 {
		t.Fatalf("total = %d, want 2", got[k].Total)
	}
	appendFile(t, path, partial[20:])
	appendFile(t, path, recLine("prod", "hm", now.Add(-25*time.Hour))) // older than a day
	appendFile(t, path, "{broken\n")
	got, skipped, _ := a.snapshot(now)
	if got[k].Total != 3 || skipped != 1 {
		t.Fatalf("after the rest: total %d skipped %d, want 3 and 1", got[k].Total, skipped)
	}
	n := len(got[k].Windows)
	if n != 288 || got[k].Windows[n-2] != 3 {
		t.Errorf("windows %d, second-to-last %d; want 288 and 3 in the 11:50 window", n, got[k].Windows[n-2])
	}
	if !got[k].Newest.Equal(w1.Add(time.Minute)) {
		t.Errorf("newest = %s", got[k].Newest)
	}
	// As time goes by, old windows fall out of the chart.
	got, _, _ = a.snapshot(now.Add(24 * time.Hour))
	if got[k].Total != 0 {
		t.Errorf("a day later, total = %d, want 0", got[k].Total)
	}
}

func TestRecordCountsStartOverOnANewFile(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	path := filepath.Join(dir, "r.ndjson")
	a := newRecordCounts(path, 5*time.Minute)
	appendFile(t, path, strings.Repeat(recLine("prod", "hm", now.Add(-time.Hour)), 5))
	if got, _, _ := a.snapshot(now); got[seriesKey{"prod", "hm"}].Total != 5 {
		t.Fatalf("first read: %v", got)
	}
	// Rotated: a new, shorter file replaces the old one.
	tmp := filepath.Join(dir, "new")
	appendFile(t, tmp, recLine("prod", "jam", now.Add(-time.Hour)))
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	got, _, _ := a.snapshot(now)
	if got[seriesKey{"prod", "hm"}].Total != 0 || got[seriesKey{"prod", "jam"}].Total != 1 {
		t.Errorf("after rotation: %v", got)
	}
}

func TestRecordCountsSkipOverlongLines(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "r.ndjson")
	long := `{"tenant":"prod","monitor":"hm","time":"2026-11-25T11:00:00Z","body":"` + strings.Repeat("x", maxRecordLine) + `"}` + "\n"
	appendFile(t, path, recLine("prod", "hm", now.Add(-time.Hour))+long+recLine("prod", "hm", now.Add(-time.Hour)))
	got, skipped, err := newRecordCounts(path, 5*time.Minute).snapshot(now)
	if err != nil {
		t.Fatal(err)
	}
	if got[seriesKey{"prod", "hm"}].Total != 2 || skipped != 1 {
		t.Errorf("total %d skipped %d, want 2 and 1", got[seriesKey{"prod", "hm"}].Total, skipped)
	}
}

// BenchmarkRecordCounts measures a full read of a 100 000-record file.
func BenchmarkRecordCounts(b *testing.B) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(b.TempDir(), "r.ndjson")
	var sb strings.Builder
	for i := range 100_000 {
		sb.WriteString(recLine("prod", []string{"hm", "jam", "exm"}[i%3], now.Add(-time.Duration(i)*time.Second)))
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(sb.Len()))
	for b.Loop() {
		if _, _, err := newRecordCounts(path, 5*time.Minute).snapshot(now); err != nil {
			b.Fatal(err)
		}
	}
}
