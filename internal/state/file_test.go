package state

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/testkit"
)

func TestFileStoreConformance(t *testing.T) {
	open := func(t *testing.T, c *testkit.Clock) Store {
		s, err := NewFileStore(filepath.Join(t.TempDir(), "state"), WithClock(c.Now))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	testConformance(t, open)
	t.Run("AcquireRace", func(t *testing.T) { testAcquireRace(t, open) })
}

// A crash between writing the temp file and renaming it leaves the temp file behind; the store
// must keep serving the last complete checkpoint and ignore the leftover.
func TestFileStoreCrashLeftover(t *testing.T) {
	ctx := context.Background()
	s, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	next := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	if err := s.Put(ctx, Checkpoint{Tenant: "t1", Monitor: "hm", Next: next}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(s.Dir(), "t1")
	for _, name := range []string{".checkpoint.hm.json.tmp-123", ".lease.json.tmp-9", ".marks.hm.json.tmp-7"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"tenant":"t1","monitor":"hm","next":"2099-`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := s.Get(ctx, "t1", "hm")
	if err != nil || !ok || !got.Next.Equal(next) {
		t.Fatalf("Get after crash = %+v, %v, %v; want the last complete checkpoint", got, ok, err)
	}
	cps, err := s.List(ctx, "t1")
	if err != nil || len(cps) != 1 {
		t.Fatalf("List after crash = %+v, %v; want one checkpoint", cps, err)
	}
	if _, err := s.Acquire(ctx, "t1", "run-a", time.Minute); err != nil {
		t.Fatalf("Acquire after crash: %v", err)
	}
	if err := s.Put(ctx, Checkpoint{Tenant: "t1", Monitor: "hm", Next: next.Add(5 * time.Minute)}); err != nil {
		t.Fatalf("Put after crash: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// The store's own writes leave no temp files: only the three planted ones remain.
	tmp := 0
	for _, n := range names {
		if strings.Contains(n, ".tmp-") {
			tmp++
		}
	}
	if tmp != 3 {
		t.Errorf("temp files in %v: %d, want only the 3 planted ones", names, tmp)
	}
}

func TestFileStoreCorruptFileNamed(t *testing.T) {
	ctx := context.Background()
	s, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(s.Dir(), "t1")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "checkpoint.hm.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Get(ctx, "t1", "hm")
	if err == nil || !strings.Contains(err.Error(), "checkpoint.hm.json is corrupt") {
		t.Errorf("Get of a corrupt file = %v, want an error naming the file", err)
	}
}

// Names become file names: nothing may escape the directory or collide.
func TestFileStoreEscapesNames(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := NewFileStore(filepath.Join(root, "state"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"..", ".", "a.b", "a%2Eb"} {
		if err := s.Put(ctx, Checkpoint{Tenant: tenant, Monitor: "..", Next: time.Unix(0, 0)}); err != nil {
			t.Fatalf("Put tenant %q: %v", tenant, err)
		}
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("files outside the state directory: %v", entries)
	}
	for _, tenant := range []string{"..", ".", "a.b", "a%2Eb"} {
		cps, err := s.List(ctx, tenant)
		if err != nil || len(cps) != 1 || cps[0].Tenant != tenant {
			t.Errorf("List(%q) = %+v, %v; want its own checkpoint only", tenant, cps, err)
		}
	}
}

func TestFileStoreFilesArePrivate(t *testing.T) {
	s, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), Checkpoint{Tenant: "t1", Monitor: "hm"}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(s.Dir(), "t1", "checkpoint.hm.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("checkpoint file mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "new")
	s, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatalf("Open(dir): %v", err)
	}
	if fs, ok := s.(*FileStore); !ok || fs.Dir() != dir {
		t.Errorf("Open(dir) = %T %v, want a FileStore in %s", s, s, dir)
	}
	for spec, want := range map[string]string{
		"":                  "spec is empty",
		"dynamodb://":       "want dynamodb://TABLE",
		"dynamodb://a/b":    "want dynamodb://TABLE",
		"dynamodb://tbl":    "no AWS configuration",
		"s3://bucket/state": "unknown scheme",
	} {
		_, err := Open(ctx, spec, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", spec, err, want)
		}
	}
}
