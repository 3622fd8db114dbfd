package collect

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/calm-collector/calm-collector/internal/emf"
	"github.com/calm-collector/calm-collector/internal/version"
)

// Run modes.
const (
	ModeScheduled = "scheduled"
	ModeBackfill  = "backfill"
)

// Summary is the outcome of one run: the Lambda's answer and calmctl's report.
type Summary struct {
	Tenant string `json:"tenant"`
	Mode   string `json:"mode"` // scheduled or backfill
	Owner  string `json:"owner,omitempty"`
	// OK is true when the run was done and every monitor succeeded, with nothing left undone
	// by the deadline.
	OK bool `json:"ok"`
	// Incomplete is true when the run stopped at its deadline with work left, or a monitor's
	// window failed an invariant (MonitorSummary.Invariant): nothing is lost (the rest comes
	// next run from the checkpoints), but the run is not ok.
	Incomplete bool      `json:"incomplete,omitempty"`
	Started    time.Time `json:"started"`
	DurationMs int64     `json:"durationMs"`
	// Skipped says why the run did nothing (another run holds the tenant's lease).
	Skipped string `json:"skipped,omitempty"`
	// Error is a failure of the whole run (no token, unknown monitor, state store down, lease lost).
	Error    string           `json:"error,omitempty"`
	Monitors []MonitorSummary `json:"monitors"`
	// APIBytes is the size of the API's answers to this run as they came over the network
	// (what the tenant's 24 GB/month fair-use quota counts); APIBytesDecoded the same after
	// decompression. Sums of the monitors' (docs/transfer.md).
	APIBytes        int64 `json:"apiBytes"`
	APIBytesDecoded int64 `json:"apiBytesDecoded"`
	// Quota is the tenant's month-to-date API transfer after this run and its projection to the
	// month; nil when the store could not keep it.
	Quota *QuotaUse `json:"quota,omitempty"`
	// NotSelected lists the monitors "auto" left out, with the reason.
	NotSelected []string `json:"notSelected,omitempty"`
}

// MonitorSummary is one monitor's part of a run.
type MonitorSummary struct {
	Monitor   string `json:"monitor"`
	Windows   int    `json:"windows"`
	Points    int    `json:"points"`
	Requests  int64  `json:"requests"`
	Retries   int64  `json:"retries"`
	Throttled int64  `json:"throttled"`
	// APIBytes and APIBytesDecoded are the monitor's answers on the wire and decompressed.
	APIBytes        int64 `json:"apiBytes"`
	APIBytesDecoded int64 `json:"apiBytesDecoded"`
	// LagSeconds is how far the delivered data ends behind now (the run's clock).
	LagSeconds float64 `json:"lagSeconds"`
	// Status is "ok", "error" (Error says why), "incomplete" (a window failed an invariant:
	// Invariant names it, Detail says what was found; it is held and read again next run) or
	// "stopped" (the run's deadline; the rest follows next run).
	Status string `json:"status"`
	// Error is why the monitor stopped; its undelivered windows come again next run.
	Error string `json:"error,omitempty"`
	// Invariant names the invariant of a complete window that a window failed
	// (docs/design.md, "What a complete window satisfies"); Detail is the whole message.
	Invariant string `json:"invariant,omitempty"`
	Detail    string `json:"detail,omitempty"`
	// From and To bound what this run delivered: [From, To). To is the new checkpoint.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Pending is true when the catch-up limit left windows for the next run.
	Pending bool `json:"pending,omitempty"`
	// Stopped is "deadline" when the run stopped early to finish in time.
	Stopped string `json:"stopped,omitempty"`
	// Dropped counts points the API returned outside the asked range (not delivered).
	Dropped int `json:"dropped,omitempty"`
	// Repeats counts records read twice (the pager re-reads rather than skips) and delivered
	// once; Collisions counts records whose id another record with other content had (the
	// first is delivered; a sign of a tenant that names series unexpectedly).
	Repeats    int `json:"repeats,omitempty"`
	Collisions int `json:"collisions,omitempty"`
	// Late counts points that came after their window was delivered, found by the settle
	// re-check and delivered by this run (docs/design.md §7).
	Late int `json:"late,omitempty"`
	// DeadLettered counts records and events a sink refused for good (too large for its
	// destination, refused as invalid), kept in the dead-letter place; their windows moved on.
	DeadLettered int   `json:"deadLettered,omitempty"`
	DurationMs   int64 `json:"durationMs"`
}

// Failed counts the monitors that failed.
func (s Summary) Failed() int {
	n := 0
	for _, m := range s.Monitors {
		if m.Error != "" {
			n++
		}
	}
	return n
}

// NothingDone reports a run that achieved nothing: a run error, or every monitor failed.
// A skipped run (lease held) is not a failure: another run is doing the work.
func (s Summary) NothingDone() bool {
	if s.Skipped != "" {
		return false
	}
	return s.Error != "" || (len(s.Monitors) > 0 && s.Failed() == len(s.Monitors))
}

// MaxLagSeconds is the largest lag of the monitors.
func (s Summary) MaxLagSeconds() float64 {
	lag := 0.0
	for _, m := range s.Monitors {
		lag = max(lag, m.LagSeconds)
	}
	return lag
}

// WriteTable writes the summary as a human table (calmctl's report).
func (s Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "tenant %s, %s run, %s\n", s.Tenant, s.Mode, time.Duration(s.DurationMs)*time.Millisecond)
	if s.Skipped != "" {
		fmt.Fprintf(tw, "skipped: %s\n", s.Skipped)
	}
	if s.Error != "" {
		fmt.Fprintf(tw, "error: %s\n", s.Error)
	}
	if s.Incomplete {
		fmt.Fprintln(tw, "incomplete: the run stopped at its deadline with work left, or a window failed an invariant; "+
			"nothing past it was checkpointed, the rest follows next run from the checkpoints")
	}
	if len(s.Monitors) > 0 {
		fmt.Fprintln(tw, "MONITOR\tWINDOWS\tPOINTS\tREQUESTS\tRETRIES\tTHROTTLED\tLAG\tFROM\tTO\tSTATUS")
		for _, m := range s.Monitors {
			st := "ok"
			switch {
			case m.Error != "":
				st = "FAILED: " + m.Error
			case m.Invariant != "":
				st = "INCOMPLETE (" + m.Invariant + "): " + m.Detail
			case m.Stopped != "":
				st = "stopped (" + m.Stopped + ")"
			case m.Pending:
				st = "ok, more next run"
			}
			if m.DeadLettered > 0 {
				st += fmt.Sprintf(", %d dead-lettered", m.DeadLettered)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", m.Monitor, m.Windows, m.Points, m.Requests, m.Retries,
				m.Throttled, time.Duration(m.LagSeconds*float64(time.Second)).Round(time.Second), fmtTime(m.From), fmtTime(m.To), st)
		}
		fmt.Fprintf(tw, "api bytes: %d on the wire, %d decoded\n", s.APIBytes, s.APIBytesDecoded)
		if q := s.Quota; q != nil {
			fmt.Fprintf(tw, "api bytes in %s: %d so far, %d projected to the month = %.1f %% of the %d GB quota\n",
				q.Month, q.MonthToDateBytes, q.ProjectedBytes, q.ProjectionPercent, q.QuotaBytes/1e9)
		}
	}
	// Group the monitors "auto" left out by reason: one line per reason.
	var reasons []string
	byReason := map[string][]string{}
	for _, n := range s.NotSelected {
		id, why, _ := strings.Cut(n, ": ")
		if _, ok := byReason[why]; !ok {
			reasons = append(reasons, why)
		}
		byReason[why] = append(byReason[why], id)
	}
	for _, why := range reasons {
		fmt.Fprintf(tw, "not selected (%s): %s\n", why, strings.Join(byReason[why], ","))
	}
	return tw.Flush()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04Z")
}

// WriteEMF writes the run's self-metrics in CloudWatch Embedded Metric Format (namespace
// CalmCollector): one line per monitor and one for the run. A skipped run writes nothing: the
// run holding the lease reports.
func (s Summary) WriteEMF(w io.Writer) error {
	if s.Skipped != "" {
		return nil
	}
	stats := make([]emf.MonitorStats, 0, len(s.Monitors))
	var errs int64
	for _, m := range s.Monitors {
		e := int64(0)
		if m.Error != "" {
			e = 1
		}
		errs += e
		stats = append(stats, emf.MonitorStats{Tenant: s.Tenant, Monitor: m.Monitor, Points: int64(m.Points),
			Windows: int64(m.Windows), Requests: m.Requests, Retries: m.Retries, Throttled: m.Throttled, Errors: e,
			Dropped: int64(m.Dropped), Repeats: int64(m.Repeats), Collisions: int64(m.Collisions), DeadLettered: int64(m.DeadLettered), Lag: seconds(m.LagSeconds),
			Invariant: m.Invariant})
	}
	if s.Error != "" {
		errs++
	}
	run := emf.RunStats{Tenant: s.Tenant, Duration: time.Duration(s.DurationMs) * time.Millisecond, Success: s.OK,
		Incomplete: s.Incomplete, Errors: errs, MaxLag: seconds(s.MaxLagSeconds()), APIBytes: s.APIBytes, Version: version.String()}
	if s.Quota != nil {
		run.QuotaProjectionPercent = &s.Quota.ProjectionPercent
	}
	return emf.Write(w, s.Started.Add(time.Duration(s.DurationMs)*time.Millisecond), stats, run)
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// status is the monitor's Status.
func (m MonitorSummary) status() string {
	switch {
	case m.Error != "":
		return "error"
	case m.Invariant != "":
		return "incomplete"
	case m.Stopped != "":
		return "stopped"
	}
	return "ok"
}
