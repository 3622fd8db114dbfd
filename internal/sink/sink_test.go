package sink

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// TestMain stops the shared moto_server after the tests.
func TestMain(m *testing.M) { awstest.Main(m) }

var from = time.Date(2026, 11, 25, 10, 5, 0, 0, time.UTC)

// batch returns a 5-minute window of n records whose values start at first.
func batch(tenant, monitor string, n int, first float64) Batch {
	b := Batch{Tenant: tenant, Monitor: monitor, From: from, To: from.Add(5 * time.Minute)}
	for i := range n {
		at := from.Add(time.Duration(i) * time.Second)
		attrs := map[string]string{"serviceName": "S4H.100", "i": fmt.Sprint(i)}
		b.Series = record.Runs(append(recordsOf(b), record.Record{Series: record.NewSeries(tenant, monitor, record.KindMetric, "calm.cpu", "%", false, attrs), Point: record.Point{ID: record.PointID(tenant, monitor, "calm.cpu", attrs, at), Time: at, Value: first + float64(i), HasValue: true}}))
	}
	return b
}

// decodeLines decodes NDJSON, failing on any line that is not a record.
func decodeLines(t *testing.T, data []byte) []record.Record {
	t.Helper()
	var recs []record.Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		r, err := record.Decode(sc.Bytes())
		if err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("output does not end with a newline: %q", data[max(0, len(data)-40):])
	}
	return recs
}

func assertRecords(t *testing.T, got []record.Record, want ...Batch) {
	t.Helper()
	var all []record.Record
	for _, b := range want {
		all = slices.AppendSeq(all, b.Records())
	}
	if !reflect.DeepEqual(got, all) {
		t.Errorf("records differ\n got: %v\nwant: %v", got, all)
	}
}

// writeLog records every Write call it gets.
type writeLog struct {
	mu     sync.Mutex
	writes [][]byte
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

func TestWriterOneWritePerBatch(t *testing.T) {
	ctx := context.Background()
	var log writeLog
	s := NewWriter("stdout", &log)
	a, b := batch("prod", "hm", 3, 0), batch("prod", "hm", 2, 10)
	for _, x := range []Batch{a, batch("prod", "hm", 0, 0), b} {
		if err := s.Write(ctx, x); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if len(log.writes) != 2 {
		t.Fatalf("%d writes for 2 batches and an empty one, want 2", len(log.writes))
	}
	assertRecords(t, decodeLines(t, log.writes[0]), a)
	assertRecords(t, decodeLines(t, log.writes[1]), b)
}

func TestWriterConcurrentBatchesStayWhole(t *testing.T) {
	var log writeLog
	s := NewWriter("stdout", &log)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := s.Write(context.Background(), batch("prod", fmt.Sprintf("m%d", i), 50, 0)); err != nil {
				t.Errorf("Write: %v", err)
			}
		})
	}
	wg.Wait()
	if len(log.writes) != 8 {
		t.Fatalf("%d writes, want 8", len(log.writes))
	}
	for _, w := range log.writes {
		recs := decodeLines(t, w)
		if len(recs) != 50 {
			t.Errorf("a write holds %d records, want one whole batch of 50", len(recs))
		}
		for _, r := range recs {
			if r.Monitor() != recs[0].Monitor() {
				t.Fatalf("one write mixes monitors %s and %s", recs[0].Monitor(), r.Monitor())
			}
		}
	}
}

// A batch larger than a chunk goes out in several writes of whole lines, each about writeChunk
// bytes, and concurrent batches still do not interleave: the writes of one batch follow each
// other and hold its records in order.
func TestWriterLargeBatchesInChunksOfWholeLines(t *testing.T) {
	var log writeLog
	s := NewWriter("stdout", &log)
	batches := map[string]Batch{}
	var wg sync.WaitGroup
	for i := range 4 {
		b := batch("prod", fmt.Sprintf("m%d", i), 2000, 0)
		batches[b.Monitor] = b
		wg.Go(func() {
			if err := s.Write(context.Background(), b); err != nil {
				t.Errorf("Write: %v", err)
			}
		})
	}
	wg.Wait()
	var all []byte
	for _, w := range log.writes {
		if len(w) == 0 || w[len(w)-1] != '\n' || len(w) > writeChunk+1024 {
			t.Fatalf("a write of %d bytes: want whole lines, at most a line over %d bytes", len(w), writeChunk)
		}
		all = append(all, w...)
	}
	if len(log.writes) < 8 {
		t.Errorf("%d writes for 4 batches of %d bytes each: not written in chunks", len(log.writes), len(all)/4)
	}
	recs := decodeLines(t, all)
	for start := 0; start < len(recs); start += 2000 {
		want := batches[recs[start].Monitor()]
		assertRecords(t, recs[start:min(start+2000, len(recs))], want)
	}
}

func TestFileAppendsAcrossBatchesAndReopens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "out.ndjson")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := batch("prod", "hm", 3, 0), batch("prod", "hm", 2, 10), batch("prod", "bsm", 1, 20)
	for _, x := range []Batch{a, {Tenant: "prod", Monitor: "hm"}, b} {
		if err := s.Write(ctx, x); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, c); err == nil || !strings.Contains(err.Error(), "write after close") {
		t.Errorf("Write after Close = %v, want a write-after-close error", err)
	}
	s, err = OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if err := s.Write(ctx, c); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	assertRecords(t, decodeLines(t, data), a, b, c)

	umask := syscall.Umask(0)
	syscall.Umask(umask)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := os.FileMode(0o644 &^ umask); fi.Mode().Perm() != want {
		t.Errorf("file mode %v, want %v", fi.Mode().Perm(), want)
	}
	if s.Name() != "file:"+path {
		t.Errorf("Name() = %q", s.Name())
	}
}

// TestFileWritesToNonRegularFiles: --out /dev/null and a named pipe take every batch (a device
// or pipe cannot be fsynced or cut back; that must not fail the window).
func TestFileWritesToNonRegularFiles(t *testing.T) {
	ctx := context.Background()
	null, err := OpenFile(os.DevNull)
	if err != nil {
		t.Fatalf("open %s: %v", os.DevNull, err)
	}
	if err := null.Write(ctx, batch("prod", "hm", 3, 0)); err != nil {
		t.Errorf("Write to %s: %v", os.DevNull, err)
	}
	if err := null.Close(ctx); err != nil {
		t.Error(err)
	}

	fifo := filepath.Join(t.TempDir(), "records.pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	read := make(chan []byte, 1)
	go func() {
		data, _ := os.ReadFile(fifo) // opens once the writer does; ends when it closes
		read <- data
	}()
	s, err := OpenFile(fifo)
	if err != nil {
		t.Fatalf("open a named pipe: %v", err)
	}
	a := batch("prod", "hm", 2, 0)
	if err := s.Write(ctx, a); err != nil {
		t.Errorf("Write to a named pipe: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Error(err)
	}
	assertRecords(t, decodeLines(t, <-read), a)
}

func TestFileWriteFailureIsReported(t *testing.T) {
	// /dev/full takes the open and fails every write with ENOSPC
	s, err := OpenFile("/dev/full")
	if err != nil {
		testkit.Missing(t, testkit.DevFull, "no /dev/full here: %v", err)
	}
	defer s.Close(context.Background())
	err = s.Write(context.Background(), batch("prod", "hm", 1, 0))
	if err == nil || !strings.Contains(err.Error(), "file:/dev/full: append prod/hm window 2026-11-25T10:05:00Z–2026-11-25T10:10:00Z") ||
		!strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("Write to a full device = %v, want the append error naming the window", err)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var stdout bytes.Buffer
	deps := Deps{AWS: &aws.Config{Region: "us-east-1"}, Stdout: &stdout}
	for _, tc := range []struct{ spec, name string }{
		{"stdout", "stdout"},
		{"-", "stdout"},
		{"file:" + dir + "/a.ndjson", "file:" + dir + "/a.ndjson"},
		{dir + "/b.ndjson", "file:" + dir + "/b.ndjson"},
		{"s3://bucket/records/", "s3://bucket/records"},
		{"s3://bucket", "s3://bucket"},
	} {
		s, err := Open(ctx, tc.spec, deps)
		if err != nil {
			t.Errorf("Open(%q): %v", tc.spec, err)
			continue
		}
		if s.Name() != tc.name {
			t.Errorf("Open(%q).Name() = %q, want %q", tc.spec, s.Name(), tc.name)
		}
		s.Close(ctx)
	}
	s, _ := Open(ctx, "-", deps)
	if err := s.Write(ctx, batch("prod", "hm", 1, 0)); err != nil || stdout.Len() == 0 {
		t.Errorf("stdout sink did not write to Deps.Stdout: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		spec string
		deps Deps
		want string
	}{
		{"", Deps{}, `empty sink spec; accepted forms: "stdout", "-", "file:PATH", a plain file path, "s3://BUCKET[/PREFIX]", "otlp+https://HOST[:PORT][/BASE]"`},
		{"file:", Deps{}, `sink "file:": no path after "file:"; accepted forms:`},
		{"s3://", Deps{AWS: &aws.Config{}}, `sink "s3://": no bucket name after "s3://"; accepted forms:`},
		{"s3://b/p", Deps{}, `sink "s3://b/p": needs an AWS configuration, and the caller gave none`},
		{"ftp://host/x", Deps{}, `sink "ftp://host/x": unknown scheme; accepted forms:`},
	} {
		_, err := Open(ctx, tc.spec, tc.deps)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) error = %v, want it to contain %q", tc.spec, err, tc.want)
		}
	}
}

func TestOpenAll(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sinks, err := OpenAll(ctx, []string{" stdout ", "file:" + dir + "/x.ndjson"}, Deps{Stdout: &bytes.Buffer{}})
	if err != nil || len(sinks) != 2 || sinks[0].Name() != "stdout" {
		t.Fatalf("OpenAll = %v, %v", sinks, err)
	}
	_, err = OpenAll(ctx, []string{"stdout", "bogus://x"}, Deps{})
	if err == nil || !strings.Contains(err.Error(), `open sinks: sink "bogus://x": unknown scheme`) {
		t.Errorf("OpenAll with a bad spec = %v, want it to name the spec", err)
	}
	_, err = OpenAll(ctx, []string{"stdout", "-", "stdout"}, Deps{})
	if err == nil || !strings.Contains(err.Error(), `sink "stdout" is listed twice`) {
		t.Errorf("OpenAll with a repeated spec = %v", err)
	}
}

// A process killed in the middle of a write leaves a line without its newline; the window was not
// checkpointed, so the next open cuts the torn line and the re-delivered window follows whole lines.
func TestFileCutsATornLastLineOnOpen(t *testing.T) {
	ctx := context.Background()
	a, b := batch("prod", "hm", 3, 0), batch("prod", "hm", 2, 10)
	for _, tc := range []struct {
		name string
		torn string
	}{
		{"half a record", `{"id":"abc","tenant":"pro`},
		{"a record without its newline", `{"id":"abc"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.ndjson")
			s, err := OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, a); err != nil {
				t.Fatal(err)
			}
			s.Close(ctx)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(tc.torn); err != nil {
				t.Fatal(err)
			}
			f.Close()

			s, err = OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(ctx)
			if err := s.Write(ctx, b); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			assertRecords(t, decodeLines(t, data), a, b)
		})
	}
	t.Run("only a torn line", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "out.ndjson")
		if err := os.WriteFile(path, []byte(`{"id":`), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close(ctx)
		if fi, _ := os.Stat(path); fi.Size() != 0 {
			t.Errorf("size after open = %d, want 0", fi.Size())
		}
	})
}

// recordsOf returns b's records in their order.
func recordsOf(b Batch) []record.Record { return slices.Collect(b.Records()) }
