package console

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sync"
	"time"
)

// Bounds of the records aggregation: memory stays small whatever the file holds.
const (
	maxRecordLine = 1 << 20 // longer lines are skipped
	maxSeries     = 1000    // (tenant, monitor) pairs counted; more are ignored
	chartSpan     = 24 * time.Hour
)

type seriesKey struct{ Tenant, Monitor string }

// recordCounts counts the records of an NDJSON file per tenant, monitor and window, for the last
// day. It reads the file as a stream and, since sinks only append, goes on from where it
// stopped the last time; a file that shrank or was replaced is read again from the start.
type recordCounts struct {
	path string
	res  time.Duration

	mu      sync.Mutex
	fi      os.FileInfo // the file read so far
	offset  int64
	counts  map[seriesKey]map[int64]int // window start (unix seconds) → records
	newest  map[seriesKey]time.Time
	skipped int // lines that were too long or not records
}

func newRecordCounts(path string, res time.Duration) *recordCounts {
	return &recordCounts{path: path, res: res}
}

// seriesCounts is a snapshot of one series over the chart span.
type seriesCounts struct {
	Windows []int // one per window, oldest first, ending with the last complete window
	Total   int
	Newest  time.Time // newest record time seen (any age)
}

// snapshot brings the counts up to date and returns them per series, for the windows of the
// day before now.
func (a *recordCounts) snapshot(now time.Time) (map[seriesKey]seriesCounts, int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.update(now); err != nil {
		return nil, a.skipped, err
	}
	end := now.Truncate(a.res)
	start := end.Add(-chartSpan)
	n := int(chartSpan / a.res)
	out := make(map[seriesKey]seriesCounts, len(a.counts))
	for k, buckets := range a.counts {
		sc := seriesCounts{Windows: make([]int, n), Newest: a.newest[k]}
		for w, c := range buckets {
			t := time.Unix(w, 0)
			if t.Before(start) || !t.Before(end) {
				continue
			}
			sc.Windows[int(t.Sub(start)/a.res)] += c
			sc.Total += c
		}
		out[k] = sc
	}
	return out, a.skipped, nil
}

func (a *recordCounts) reset() {
	a.fi, a.offset, a.skipped = nil, 0, 0
	a.counts, a.newest = map[seriesKey]map[int64]int{}, map[seriesKey]time.Time{}
}

func (a *recordCounts) update(now time.Time) error {
	if a.counts == nil {
		a.reset()
	}
	f, err := os.Open(a.path)
	if errors.Is(err, fs.ErrNotExist) {
		a.reset()
		return nil
	}
	if err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	if a.fi == nil || !os.SameFile(a.fi, fi) || fi.Size() < a.offset {
		a.reset()
	}
	a.fi = fi
	if _, err := f.Seek(a.offset, io.SeekStart); err != nil {
		return fmt.Errorf("read records %s: %w", a.path, err)
	}
	cutoff := now.Add(-chartSpan - a.res)
	br := bufio.NewReaderSize(f, 64<<10)
	var long bool // inside a line longer than maxRecordLine
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !long {
				line = append(line, chunk...)
				if len(line) > maxRecordLine {
					long, line = true, line[:0]
				}
			}
			a.offset += int64(len(chunk))
			continue
		}
		if err != nil {
			if err != io.EOF {
				return fmt.Errorf("read records %s: %w", a.path, err)
			}
			// A last line without its newline is still being written: read it next time.
			// (Inside an over-long line, go on past it: the rest is skipped as one bad line.)
			if !long {
				a.offset -= int64(len(line))
			}
			break
		}
		a.offset += int64(len(chunk))
		if long {
			long = false
			a.skipped++
			continue
		}
		if len(line) > 0 {
			line = append(line, chunk...)
			chunk = line
		}
		if len(chunk) > maxRecordLine {
			a.skipped++
		} else {
			a.add(chunk, cutoff)
		}
		line = line[:0]
	}
	a.prune(cutoff)
	return nil
}

// lineRecord is the part of a record (docs/design.md §4) the status view needs.
type lineRecord struct {
	Tenant  string    `json:"tenant"`
	Monitor string    `json:"monitor"`
	Time    time.Time `json:"time"`
}

// scanRecord is the fast path for the lines the sinks write: it picks the first "tenant",
// "monitor" and "time" string values without decoding the rest. Inside a JSON string a quote
// is escaped, so the first match of `"tenant":"` is the top-level field. Values with escapes
// (or anything unexpected) return false and take the full decoder.
func scanRecord(line []byte) (lineRecord, bool) {
	str := func(key string) (string, bool) {
		i := bytes.Index(line, []byte(key))
		if i < 0 {
			return "", false
		}
		rest := line[i+len(key):]
		j := bytes.IndexByte(rest, '"')
		if j <= 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
			return "", false
		}
		return string(rest[:j]), true
	}
	tenant, ok1 := str(`"tenant":"`)
	monitor, ok2 := str(`"monitor":"`)
	ts, ok3 := str(`"time":"`)
	if !ok1 || !ok2 || !ok3 {
		return lineRecord{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return lineRecord{}, false
	}
	return lineRecord{Tenant: tenant, Monitor: monitor, Time: t}, true
}

func (a *recordCounts) add(line []byte, cutoff time.Time) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	r, ok := scanRecord(line)
	if !ok && (json.Unmarshal(line, &r) != nil || r.Tenant == "" || r.Monitor == "" || r.Time.IsZero()) {
		a.skipped++
		return
	}
	k := seriesKey{r.Tenant, r.Monitor}
	buckets, ok := a.counts[k]
	if !ok {
		if len(a.counts) >= maxSeries {
			a.skipped++
			return
		}
		buckets = map[int64]int{}
		a.counts[k] = buckets
	}
	if r.Time.After(a.newest[k]) {
		a.newest[k] = r.Time
	}
	if r.Time.Before(cutoff) {
		return
	}
	buckets[r.Time.Truncate(a.res).Unix()]++
}

// prune drops the windows that fell out of the chart span.
func (a *recordCounts) prune(cutoff time.Time) {
	for _, buckets := range a.counts {
		for w := range buckets {
			if time.Unix(w, 0).Before(cutoff) {
				delete(buckets, w)
			}
		}
	}
}

// sortedSeries returns the keys of m ordered by tenant, then monitor.
func sortedSeries[V any](m map[seriesKey]V) []seriesKey {
	return slices.SortedFunc(maps.Keys(m), func(a, b seriesKey) int {
		return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.Monitor, b.Monitor))
	})
}
