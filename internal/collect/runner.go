package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
)

// Store is what a run needs from the state store; internal/state's stores satisfy it.
type Store interface {
	Get(ctx context.Context, tenant, monitor string) (state.Checkpoint, bool, error)
	Put(ctx context.Context, cp state.Checkpoint) error
	Acquire(ctx context.Context, tenant, owner string, ttl time.Duration) (state.Lease, error)
	Renew(ctx context.Context, l state.Lease, ttl time.Duration) (state.Lease, error)
	Release(ctx context.Context, l state.Lease) error
	Marks(ctx context.Context, tenant, monitor string, now time.Time) (map[string]state.Mark, error)
	PutMarks(ctx context.Context, tenant, monitor string, now time.Time, marks map[string]state.Mark) error
}

// Sink is what a run needs from a sink; internal/sink's sinks satisfy it. Write must not
// change the batch's records: every sink of the run is given the same.
type Sink interface {
	Name() string
	Write(ctx context.Context, b sink.Batch) error
}

// DeadLetter keeps what a sink refused for good (sink.Refused); internal/sink's dead-letter
// places satisfy it.
type DeadLetter interface {
	Keep(ctx context.Context, b sink.Batch, sink string, items []sink.Refused) error
}

// Runner collects the monitors of one tenant. Build one per run (or reuse it: Run keeps no
// state between calls).
type Runner struct {
	Config Config
	Tenant string
	// Host is the tenant's API host (APIHost of its url). When set, it is recorded in every
	// checkpoint, and a tenant whose state names another host is refused.
	Host   string
	Client Client
	// Scopes answers which scopes the token grants (for "auto"); *calm.TokenSource. When it
	// also has Token(ctx), Run fetches a token first so that the scopes are known.
	Scopes Scopes
	Store  Store
	Sinks  []Sink
	// DeadLetter keeps the records and entries a sink refuses for good (too large for its
	// destination, refused as invalid), so that the window moves on; they are counted in the
	// summary (DeadLettered). Nil: such a refusal fails the window, which is then held.
	DeadLetter DeadLetter
	// Owner names this run in the lease (default host name and process id).
	Owner string
	// Now is the clock the windows are computed from (default time.Now).
	Now func() time.Time
	// Progress, when set, is called after every span a monitor has delivered.
	Progress func(p Progress)
	Logger   *slog.Logger

	// wall is the clock the deadline is checked against (default time.Now); tests move it.
	wall func() time.Time
	// extraErr is what is wrong with the monitors the connector secret gives (For).
	extraErr error
}

// Progress reports how far a monitor is.
type Progress struct {
	Monitor         string
	Done, Total     time.Duration // delivered and planned time
	Windows, Points int
}

// Request says what one run does.
type Request struct {
	// Monitors overrides Config.Monitors when not empty.
	Monitors []string
	// Backfill, when set, collects this range and leaves checkpoints and marks alone.
	Backfill *Range
}

// eventMarkMargin keeps a status event's mark a little longer than the lookback that can see it.
const eventMarkMargin = time.Hour

// Run takes the tenant's lease, collects every selected monitor and returns the summary. It never
// panics on a failing monitor: failures are in the summary, the other monitors go on.
func (r *Runner) Run(ctx context.Context, req Request) Summary {
	log := r.logger()
	now := r.now()
	started := r.wallNow()
	sum := Summary{Tenant: r.Tenant, Mode: ModeScheduled, Started: started, Monitors: []MonitorSummary{}}
	if req.Backfill != nil {
		sum.Mode = ModeBackfill
	}
	finish := func() Summary {
		sum.DurationMs = r.wallNow().Sub(started).Milliseconds()
		// A run cut short by its deadline is not ok: only the lag alarm would notice otherwise.
		// A window failing an invariant is not ok either: data is missing until a run reads it whole.
		for i := range sum.Monitors {
			sum.Monitors[i].Status = sum.Monitors[i].status()
		}
		sum.Incomplete = sum.Skipped == "" && (errors.Is(ctx.Err(), context.DeadlineExceeded) ||
			slices.ContainsFunc(sum.Monitors, func(m MonitorSummary) bool { return m.Stopped != "" || m.Invariant != "" }))
		sum.OK = sum.Error == "" && sum.Skipped == "" && !sum.Incomplete &&
			!slices.ContainsFunc(sum.Monitors, func(m MonitorSummary) bool { return m.Error != "" })
		return sum
	}

	selected, notSelected, problem := r.selectMonitors(ctx, req)
	sum.NotSelected = notSelected
	if problem != "" {
		sum.Error = problem
		return finish()
	}

	owner := r.Owner
	if owner == "" {
		owner = defaultOwner()
	}
	sum.Owner = owner
	ttl := r.leaseTTL(ctx)
	lease, err := r.Store.Acquire(ctx, r.Tenant, owner, ttl)
	if held := (*state.HeldError)(nil); errors.As(err, &held) {
		sum.Skipped = err.Error()
		log.Warn("collection skipped: lease held", "holder", held.Owner, "until", held.Expires)
		return finish()
	}
	if err != nil {
		sum.Error = fmt.Sprintf("acquire the lease of tenant %q: %v", r.Tenant, err)
		return finish()
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	renewDone := r.keepLease(runCtx, cancel, lease, ttl)
	defer func() {
		cancel(nil)
		l := <-renewDone
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer rcancel()
		if err := r.Store.Release(rctx, l); err != nil {
			log.Warn("release lease", "err", err)
		}
	}()

	stopAt := time.Time{}
	if d, ok := ctx.Deadline(); ok {
		stopAt = d.Add(-r.Config.DeadlineMargin)
	}
	formats, hadFormats := r.tenantFormats(runCtx, now)
	shape := newTenantShape(formats, log)
	shape.probe = probeMonitor(selected)
	results := r.runMonitors(runCtx, selected, req, now, stopAt, shape)
	sum.Monitors = results
	r.saveFormats(context.WithoutCancel(runCtx), now, formats, hadFormats, shape)
	for _, m := range results {
		sum.APIBytes += m.APIBytes
		sum.APIBytesDecoded += m.APIBytesDecoded
	}
	sum.Quota = r.monthToDate(context.WithoutCancel(runCtx), now, sum.APIBytes)
	if cause := context.Cause(runCtx); cause != nil && !errors.Is(cause, context.Canceled) {
		sum.Error = cause.Error()
	}
	return finish()
}

// selectMonitors picks the monitors of the run: the request's, else the configuration's; for
// "auto" those the token grants confirmed scopes for. problem says why none can run.
func (r *Runner) selectMonitors(ctx context.Context, req Request) (selected []Monitor, notSelected []string, problem string) {
	names := req.Monitors
	if len(names) == 0 {
		names = r.Config.Monitors
	}
	if len(names) == 1 && names[0] == AutoMonitors {
		if t, ok := r.Scopes.(interface {
			Token(context.Context) (*oauth2.Token, error)
		}); ok {
			if _, err := t.Token(ctx); err != nil {
				return nil, nil, fmt.Sprintf("get a token to see the granted scopes: %v", err)
			}
		}
	}
	var scopes Scopes = noScopes{}
	if r.Scopes != nil {
		scopes = r.Scopes
	}
	if r.extraErr != nil {
		return nil, nil, r.extraErr.Error()
	}
	tab, err := r.Config.MonitorTable()
	if err != nil {
		return nil, nil, err.Error()
	}
	selected, notSelected, err = SelectFrom(tab, names, scopes)
	switch {
	case err != nil:
		return nil, notSelected, err.Error()
	case len(selected) == 0:
		return nil, notSelected, "no monitor selected: the token grants none of the confirmed monitor scopes; name monitors explicitly or add scopes to the service instance"
	}
	return selected, notSelected, ""
}

// runMonitors collects the selected monitors, Config.Concurrency at a time, and returns their
// summaries in the order of selected.
func (r *Runner) runMonitors(ctx context.Context, selected []Monitor, req Request, now, stopAt time.Time, shape *tenantShape) []MonitorSummary {
	results := make([]MonitorSummary, len(selected))
	sem := make(chan struct{}, r.Config.Concurrency)
	var wg sync.WaitGroup
	for i, m := range selected {
		// Monitors start in table order: with Concurrency 1 a run asks in one order, which a
		// replay of its transcript follows (RecordingConcurrency).
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = r.runMonitor(ctx, m, req, now, stopAt, shape)
		}()
	}
	wg.Wait()
	return results
}

// noScopes grants nothing: without a token source "auto" selects no monitor.
type noScopes struct{}

func (noScopes) HasScope(string) bool { return false }

// keepLease renews the lease every third of its ttl until ctx ends; losing it cancels the run.
// The returned channel yields the last lease held once renewal has stopped.
func (r *Runner) keepLease(ctx context.Context, cancel context.CancelCauseFunc, l state.Lease, ttl time.Duration) <-chan state.Lease {
	out := make(chan state.Lease, 1)
	go func() {
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				out <- l
				return
			case <-t.C:
				nl, err := r.Store.Renew(ctx, l, ttl)
				if err != nil {
					if ctx.Err() == nil {
						cancel(fmt.Errorf("lost the lease of tenant %q: %w", r.Tenant, err))
					}
					out <- l
					return
				}
				l = nl
			}
		}
	}()
	return out
}

func (r *Runner) leaseTTL(ctx context.Context) time.Duration {
	if r.Config.LeaseTTL > 0 {
		return r.Config.LeaseTTL
	}
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d) + time.Minute
	}
	return 10 * time.Minute
}

func defaultOwner() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s pid %d", host, os.Getpid())
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Runner) wallNow() time.Time {
	if r.wall != nil {
		return r.wall()
	}
	return time.Now()
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}
