package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// Benchmark settings: a landscape large enough for more than a million points a day, and the
// round-trip latency of a far-away Cloud ALM region.
const (
	benchServices = 240
	benchLatency  = 40 * time.Millisecond
	benchPageSize = calm.DefaultPageSize
)

var benchMonitors = []string{"hm", "jam"}

// replayFront answers API requests from a cache filled on first use by the simulator, after
// an injected latency. The cache keeps the simulator's CPU (it builds every point of a series
// for each page) out of what is measured: the collector meets a server that only waits.
type replayFront struct {
	sim     *sim.Server
	latency atomic.Int64

	mu    sync.Mutex
	cache map[string]cachedAnswer

	requests, bytes atomic.Int64
	// trace, when set (CALM_BENCH_TRACE), writes every API answer's start and end.
	trace *requestTrace
	// minRequests is Σ seriesRequests over the first pages (offset 0) seen.
	minRequests atomic.Int64
}

type cachedAnswer struct {
	header http.Header
	code   int
	body   []byte
}

func (f *replayFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/token" {
		f.sim.ServeHTTP(w, r)
		return
	}
	f.requests.Add(1)
	if f.trace != nil {
		start := time.Now()
		defer func() { f.trace.add(start, time.Now(), r.URL.Query()) }()
	}
	if d := time.Duration(f.latency.Load()); d > 0 {
		time.Sleep(d)
	}
	key := r.URL.Path + "?" + r.URL.RawQuery
	f.mu.Lock()
	a, ok := f.cache[key]
	f.mu.Unlock()
	if !ok {
		rec := httptest.NewRecorder()
		f.sim.ServeHTTP(rec, r)
		a = cachedAnswer{header: rec.Header().Clone(), code: rec.Code, body: rec.Body.Bytes()}
		if a.code == http.StatusOK {
			f.mu.Lock()
			f.cache[key] = a
			f.mu.Unlock()
		}
	}
	q := r.URL.Query()
	if q.Get("offset") == "0" {
		total, _ := strconv.Atoi(a.header.Get("X-Total-Count"))
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit > 0 {
			f.minRequests.Add(seriesRequests(total, limit))
		}
	}
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.code)
	w.Write(a.body)
	f.bytes.Add(int64(len(a.body)))
}

func (f *replayFront) reset() {
	f.requests.Store(0)
	f.bytes.Store(0)
	f.minRequests.Store(0)
}

// requestTrace writes one line per API answer: start and end (Unix microseconds, as the
// server saw them), provider, offset and from. Where the wall time goes beyond the network
// bound is read off it: the gaps between one answer's end and the next request of the same
// series (BENCHMARKS.md, 24 h backfill).
type requestTrace struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *requestTrace) add(start, end time.Time, q url.Values) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "%d %d %s %s %s\n", start.UnixMicro(), end.UnixMicro(), q.Get("provider"), q.Get("offset"), q.Get("from"))
}

// countingWriter counts what the collector delivers.
type countingWriter struct{ n atomic.Int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n.Add(int64(len(p))); return len(p), nil }

var (
	backfillOnce sync.Once
	backfillEnv  struct {
		calmctl, secret string
		front           *replayFront
		from, to        time.Time
		err             error
	}
)

// BenchmarkBackfill24h runs `calmctl collect --from --to` (a subprocess, as the Lambda runs
// alone in its sandbox) over 24 h of a 240-service landscape with 40 ms per API answer, and
// reports wall time against the network bound of its concurrency, requests against the
// minimum, bytes fetched and delivered, and the peak RSS of the process.
func BenchmarkBackfill24h(b *testing.B) {
	backfillOnce.Do(func() { setupBackfill(b) })
	e := &backfillEnv
	if e.err != nil {
		b.Fatal(e.err)
	}
	concurrency := collect.DefaultConfig().Concurrency
	var wall time.Duration
	var rss memPeak
	var delivered int64
	var cpu time.Duration
	e.front.trace = nil
	if path := os.Getenv("CALM_BENCH_TRACE"); path != "" { // the last run's answers
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		e.front.trace = &requestTrace{w: f}
	}
	b.ResetTimer()
	for b.Loop() {
		e.front.reset()
		out := &countingWriter{}
		cmd := exec.Command(e.calmctl, "collect", "--secret-file", e.secret, "--state", b.TempDir(), "--out", "-",
			"--monitors", strings.Join(benchMonitors, ","), "--from", e.from.Format(time.RFC3339), "--to", e.to.Format(time.RFC3339))
		cmd.Stdout, cmd.Stderr = out, io.Discard
		if v := os.Getenv("CALM_BENCH_GOMEMLIMIT"); v != "" {
			cmd.Env = append(os.Environ(), "GOMEMLIMIT="+v) // what a Lambda setting would do
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatalf("backfill: %v", err)
		}
		// Peak RSS from VmHWM, read while the process runs. (wait4's ru_maxrss is no use
		// here: a child started with vfork+exec inherits the parent's high-water mark.)
		stop := make(chan struct{})
		peak := make(chan memPeak, 1)
		go func() { peak <- pollVmHWM(cmd.Process.Pid, stop) }()
		err := cmd.Wait()
		wall = time.Since(start)
		close(stop)
		rss = <-peak
		if err != nil {
			b.Fatalf("backfill: %v", err)
		}
		delivered = out.n.Load()
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.StopTimer()
	reqs, minReqs := e.front.requests.Load(), e.front.minRequests.Load()
	bound := networkBound(e.front, concurrency)
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(bound.Seconds(), "bound-s")
	b.ReportMetric(wall.Seconds()/bound.Seconds(), "wall/bound")
	b.ReportMetric(float64(reqs), "requests")
	b.ReportMetric(float64(minReqs), "min-requests")
	b.ReportMetric(float64(e.front.bytes.Load())/1e6, "MB-fetched")
	b.ReportMetric(float64(delivered)/1e6, "MB-delivered")
	b.ReportMetric(float64(rss.hwm)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(rss.anon)/(1<<20), "peak-anon-MiB") // heap and stacks
	b.ReportMetric(float64(rss.file)/(1<<20), "peak-file-MiB") // pages of the binary
	b.ReportMetric(cpu.Seconds(), "cpu-s")                     // user + system time of the calmctl process
}

// memPeak is the peak memory of a process: VmHWM (its resident high-water mark), and the
// largest RssAnon (heap, stacks) and RssFile (pages of its binary) seen while polling.
type memPeak struct{ hwm, anon, file int64 }

// pollVmHWM returns the peak memory of the process seen until stop is closed.
func pollVmHWM(pid int, stop <-chan struct{}) memPeak {
	var peak memPeak
	path := fmt.Sprintf("/proc/%d/status", pid)
	tk := time.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				for _, f := range []struct {
					key string
					to  *int64
				}{{"VmHWM:", &peak.hwm}, {"RssAnon:", &peak.anon}, {"RssFile:", &peak.file}} {
					if v, ok := strings.CutPrefix(line, f.key); ok {
						if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
							*f.to = max(*f.to, kb*1024)
						}
					}
				}
			}
		}
		select {
		case <-stop:
			return peak
		case <-tk.C:
		}
	}
}

// seriesRequests is the fewest requests that read a series of total items in pages of limit; a
// question of one page (a count for a cut, limit=1; the probe of from/to), one.
func seriesRequests(total, limit int) int64 {
	if limit < calm.DefaultPageSize {
		return 1
	}
	return int64(max(1, (total+limit-1)/limit))
}

// networkBound is the least wall time the request pattern allows: every monitor's pages one
// after the other, monitors side by side up to the concurrency, each answer taking the injected
// latency. A question of one page (a count) goes beside a monitor's pages, so it counts against
// the concurrency but not in the monitor's own sequence.
func networkBound(f *replayFront, concurrency int) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	perMonitor := map[string]int64{}
	var total int64
	for key, a := range f.cache {
		u, _ := url.ParseQuery(key[strings.IndexByte(key, '?')+1:])
		if u.Get("offset") != "0" {
			continue
		}
		total2, _ := strconv.Atoi(a.header.Get("X-Total-Count"))
		limit, _ := strconv.Atoi(u.Get("limit"))
		n := seriesRequests(total2, max(limit, 1))
		total += n
		if limit >= calm.DefaultPageSize { // a count (limit=1) is asked beside the pages: it takes a slot, not a turn
			perMonitor[u.Get("provider")] += n
		}
	}
	var longest int64
	for _, n := range perMonitor {
		longest = max(longest, n)
	}
	crit := max(longest, (total+int64(concurrency)-1)/int64(concurrency))
	return time.Duration(crit) * time.Duration(f.latency.Load())
}

func setupBackfill(b *testing.B) {
	e := &backfillEnv
	dir, err := os.MkdirTemp("", "calm-bench-")
	if err != nil {
		e.err = err
		return
	}
	goBin := awstest.GoTool()
	e.calmctl = filepath.Join(dir, "calmctl")
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", e.calmctl, "github.com/calm-collector/calm-collector/cmd/calmctl")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		e.err = fmt.Errorf("build calmctl: %v\n%s", err, out)
		return
	}
	s := sim.New(sim.Config{Services: benchServices})
	e.front = &replayFront{sim: s, cache: map[string]cachedAnswer{}}
	srv := httptest.NewServer(e.front)
	// The server lives as long as the benchmark binary.
	e.secret = filepath.Join(dir, "secret.json")
	conn := fmt.Sprintf(`{"name":"bench","authenticationServer":%q,"clientId":%q,"clientSecret":%q,"url":%q}`,
		srv.URL, sim.DefaultClientID, sim.DefaultClientSecret, srv.URL)
	if err := os.WriteFile(e.secret, []byte(conn), 0o600); err != nil {
		e.err = err
		return
	}
	e.to = time.Now().UTC().Add(-time.Hour).Truncate(time.Hour)
	e.from = e.to.Add(-24 * time.Hour)
	// Warm the cache (the simulator builds the pages; no latency), and count the points.
	warm := exec.Command(e.calmctl, "collect", "--secret-file", e.secret, "--state", filepath.Join(dir, "warm-state"), "--out", "-",
		"--monitors", strings.Join(benchMonitors, ","), "--from", e.from.Format(time.RFC3339), "--to", e.to.Format(time.RFC3339))
	warm.Stdout, warm.Stderr = io.Discard, io.Discard
	if err := warm.Run(); err != nil {
		e.err = fmt.Errorf("warm-up backfill: %v", err)
		return
	}
	points := 0
	for _, m := range benchMonitors {
		points += len(s.Expected(m, e.from, e.to, 5*time.Minute))
	}
	b.Logf("landscape: %d services, %d points in 24 h (%v)", benchServices, points, benchMonitors)
	if points < 1_000_000 {
		e.err = fmt.Errorf("only %d points in 24 h; raise benchServices", points)
	}
	e.front.latency.Store(int64(benchLatency))
}

// BenchmarkSteadyStateRun is one scheduled run of the default configuration (every monitor
// "auto" selects) on the simulator's default landscape with 40 ms per answer, after the first
// run has caught up: a typical tenant's 5-minute tick, the run the schedule repeats 8640 times
// a month and so the production case every optimisation is weighed against (BENCHMARKS.md).
// CALM_BENCH_MONITORS=hm,rum,... names the monitors instead. It reports per tenant-run its wall time, CPU time and allocations (of the process: the
// in-process simulator's included, so an upper bound for the collector's), API requests and
// API bytes, and what that makes a month.
func BenchmarkSteadyStateRun(b *testing.B) {
	s, r, clock := caughtUp(b, sim.Config{})
	c := r.Client.(*calm.Client)
	s.SetFaults(sim.Faults{Slow: benchLatency})
	var bytes, reqs int64
	var monitors int
	var req collect.Request
	if v := os.Getenv("CALM_BENCH_MONITORS"); v != "" { // a set of monitors instead of "auto":
		req.Monitors = strings.Split(v, ",") // an earlier release's default, like for like
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	for b.Loop() {
		clock.Advance(5 * time.Minute)
		before, stats := s.BytesServed(), c.Stats()
		sum := r.Run(context.Background(), req)
		if !sum.OK {
			b.Fatalf("run failed: %+v", sum)
		}
		bytes += s.BytesServed() - before
		reqs += c.Stats().Requests - stats.Requests
		monitors = len(sum.Monitors)
	}
	b.StopTimer()
	n := float64(b.N)
	perRun := b.Elapsed().Seconds() / n
	b.ReportMetric(perRun*1000, "ms/run")
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(time.Millisecond)/n, "cpu-ms/run")
	b.ReportMetric(float64(bytes)/n, "API-bytes/run")
	b.ReportMetric(float64(reqs)/n, "requests/run")
	b.ReportMetric(float64(monitors), "monitors")
	const runsPerMonth = 8640 // every 5 minutes, 30 days
	b.ReportMetric(perRun*0.25*runsPerMonth, "GB-s/month@256MB")
	b.ReportMetric(float64(bytes)/n*runsPerMonth/24e9*100, "%-of-24GB-quota")
}

// caughtUp starts a simulator of cfg on loopback with a clock at t0, and a runner of the default
// configuration on it (through collect.Connect, as the Lambda builds it) whose first run has
// caught up; the benchmarks then move the clock by a schedule interval and measure the next runs.
func caughtUp(b *testing.B, cfg sim.Config) (*sim.Server, *collect.Runner, *testkit.Clock) {
	b.Helper()
	clock := testkit.NewClock(t0)
	cfg.Now = clock.Now
	s := sim.New(cfg)
	if err := s.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	c, err := collect.Connect(s.ConnectorJSON(), "", collect.ClientOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	store, err := state.NewFileStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	r := (&collect.Runner{Config: collect.DefaultConfig(), Store: store,
		Sinks: []collect.Sink{sink.NewWriter("count", &countingWriter{})}, Owner: "bench", Now: clock.Now}).For(c)
	if sum := r.Run(context.Background(), collect.Request{}); !sum.OK {
		b.Fatalf("catch-up run failed: %+v", sum)
	}
	return s, r, clock
}
