package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sink"
)

// DefaultCollectTimeout bounds one "Collect now" run.
const DefaultCollectTimeout = 2 * time.Minute

// DefaultOwner names the console's runs in the tenant lease.
const DefaultOwner = "calmctl console"

// collectBox is the "Collect now" button of one stored connector, with the last run's summary.
type collectBox struct {
	CSRF, Key string
	Run       *runView
}

// runView is one "Collect now" run as the page shows it.
type runView struct {
	Key string
	// State is "ok", "failed" (a monitor or the run failed), "held" (another run holds the
	// tenant's lease) or "error" (no run started).
	State       string
	Error       string
	Held        string
	Summary     *collect.Summary
	Monitors    []runMonitor
	NotSelected []notSelected // grouped by reason
	Left        int           // monitors "auto" left out
}

// notSelected is the monitors "auto" left out for one reason.
type notSelected struct{ Reason, IDs string }

// runMonitor is one monitor's line of the run summary.
type runMonitor struct {
	collect.MonitorSummary
	Status, Class string
}

// canCollect reports whether "Collect now" is on: the console reads the connectors' secrets
// itself, and has a state store and a records file to write to.
func (c *Console) canCollect() bool {
	return c.cfg.Connectors != nil && c.cfg.OpenStore != nil && c.cfg.Records != ""
}

func (c *Console) collectBox(csrf, key string) *collectBox {
	if key == "" || !c.canCollect() {
		return nil
	}
	if _, ok := c.cfg.Connectors.Source(key); !ok {
		return nil
	}
	return &collectBox{CSRF: csrf, Key: key}
}

// handleCollect is "Collect now": one scheduled collection of a stored connector, answered with
// the run summary (a fragment for the page's script, or the whole page for a plain form post).
func (c *Console) handleCollect(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimSpace(r.PostFormValue("connector"))
	rv, scrub := c.collectNow(r.Context(), key)
	if r.Header.Get("X-Console-Fragment") != "" {
		c.render(w, "run", rv, scrub)
		return
	}
	p := c.basePage(w, r, "connectors")
	if c.cfg.Connectors != nil {
		if _, ok := c.cfg.Connectors.Source(key); ok {
			p.Form = c.summary(r.Context(), key).form()
		}
	}
	p.Collect = &collectBox{CSRF: p.CSRF, Key: key, Run: &rv}
	c.render(w, "index", p, scrub)
}

// collectNow runs one scheduled collection of the stored connector key, the way `calmctl
// collect` does: the console's state store and records file, the default settings, and the
// console's monitors ("auto" when none are given). It returns the view and the secret values
// to keep off the page.
func (c *Console) collectNow(ctx context.Context, key string) (runView, []string) {
	if !c.canCollect() {
		if c.cfg.Connectors == nil {
			return failedRun(key, "collect now needs the connector's secret on this machine: start the console with --connectors-dir, --secret-file or --secret-id; the deployed function collects on its schedule"), nil
		}
		return failedRun(key, "collect now needs a state store and a records file: start the console with --state and --records"), nil
	}
	src, ok := c.cfg.Connectors.Source(key)
	if !ok {
		return failedRun(key, "no connector %q is stored: choose one from the list", key), nil
	}
	raw, err := src.Load(ctx)
	if err != nil {
		return failedRun(key, "read the secret of connector %s: %v", key, err), nil // secrets errors never hold the content
	}
	scrub := calm.SecretValues(raw)
	settings, _, err := calm.ParseSettings(raw)
	if err != nil {
		return failedRun(key, "the stored settings of connector %s do not parse: open it, fix it and save it again (%v)", key, err), scrub
	}

	release, held := c.holdTenant(settings.Name)
	if held != "" {
		return runView{Key: key, State: "held", Held: held}, scrub
	}
	defer release()
	return c.runCollection(ctx, key, raw), scrub
}

// holdTenant keeps this console's runs to one per tenant: they share its lease owner, which the
// state store lets in again (other processes meet the lease). It returns what releases the
// tenant, or why it is held.
func (c *Console) holdTenant(tenant string) (release func(), held string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.collecting[tenant] {
		return nil, fmt.Sprintf("a collection of tenant %q is already running in this console; wait for its summary", tenant)
	}
	c.collecting[tenant] = true
	return func() {
		c.mu.Lock()
		delete(c.collecting, tenant)
		c.mu.Unlock()
	}, ""
}

// runCollection runs one scheduled collection of connector key from its secret raw into the
// console's records file, and returns its view.
func (c *Console) runCollection(ctx context.Context, key string, raw []byte) runView {
	cfg := collect.DefaultConfig()
	cfg.Resolution = c.cfg.Resolution
	cfg.Extra = c.cfg.Extra
	if len(c.cfg.Monitors) > 0 {
		cfg.Monitors = c.cfg.Monitors
	}
	if err := cfg.Validate(); err != nil {
		return failedRun(key, "collection settings: %v", err)
	}
	store, err := c.cfg.OpenStore(ctx)
	if err != nil {
		return failedRun(key, "open the state store %s: %v", c.cfg.StateName, err)
	}
	var base http.RoundTripper
	if c.cfg.HTTPClient != nil {
		base = c.cfg.HTTPClient.Transport
	}
	client, err := collect.Connect(raw, "", collect.ClientOptions{Base: base, Timeout: c.cfg.CollectTimeout, Logger: c.log, UserAgent: "calm-collector console"})
	if err != nil {
		return failedRun(key, "build the Cloud ALM client: %v", err)
	}
	out, err := sink.OpenFile(c.cfg.Records)
	if err != nil {
		return failedRun(key, "open the records file: %v", err)
	}
	defer func() {
		if err := out.Close(context.WithoutCancel(ctx)); err != nil {
			c.log.Error("close the records file", "err", err)
		}
	}()

	runCtx, cancel := context.WithTimeout(ctx, c.cfg.CollectTimeout)
	defer cancel()
	r := (&collect.Runner{
		Config: cfg, Store: store, Sinks: []collect.Sink{out}, Owner: c.cfg.Owner, Now: c.cfg.Now,
		Logger: c.log.With("connector", key),
	}).For(client)
	sum := r.Run(runCtx, collect.Request{})
	points := 0
	for _, m := range sum.Monitors {
		points += m.Points
	}
	c.log.Info("collect now", "connector", key, "tenant", sum.Tenant, "ok", sum.OK, "skipped", sum.Skipped != "",
		"failed", sum.Failed(), "points", points, "ms", sum.DurationMs)
	return newRunView(key, sum)
}

// failedRun is the view of a "Collect now" run of connector key that did not start.
func failedRun(key, format string, a ...any) runView {
	return runView{Key: key, State: "error", Error: fmt.Sprintf(format, a...)}
}

func newRunView(key string, sum collect.Summary) runView {
	rv := runView{Key: key, Summary: &sum, Left: len(sum.NotSelected)}
	byReason := map[string]int{}
	for _, n := range sum.NotSelected {
		id, why, _ := strings.Cut(n, ": ")
		i, ok := byReason[why]
		if !ok {
			i = len(rv.NotSelected)
			byReason[why] = i
			rv.NotSelected = append(rv.NotSelected, notSelected{Reason: why})
		} else {
			rv.NotSelected[i].IDs += ", "
		}
		rv.NotSelected[i].IDs += id
	}
	switch {
	case sum.Skipped != "":
		rv.State, rv.Held = "held", sum.Skipped
	case sum.OK:
		rv.State = "ok"
	default:
		rv.State, rv.Error = "failed", sum.Error
	}
	for _, m := range sum.Monitors {
		rm := runMonitor{MonitorSummary: m, Status: "ok", Class: "good"}
		switch {
		case m.Error != "":
			rm.Status, rm.Class = "failed: "+m.Error, "bad"
		case m.Stopped != "":
			rm.Status, rm.Class = "stopped early ("+m.Stopped+"): the rest comes next run", "late"
		case m.Pending:
			rm.Status = "ok, more next run"
		}
		rv.Monitors = append(rv.Monitors, rm)
	}
	return rv
}
