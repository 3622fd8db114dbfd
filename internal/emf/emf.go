// Package emf writes the collector's self-metrics (docs/architecture.md, "Self-metrics") in CloudWatch
// Embedded Metric Format: one JSON line per monitor and one per run, which CloudWatch Logs turns
// into metrics. It is self-monitoring, not a sink of collected records.
package emf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// Namespace is the CloudWatch namespace of the collector's own metrics.
const Namespace = "CalmCollector"

// MonitorStats are one monitor's numbers of one run.
type MonitorStats struct {
	Tenant, Monitor                                       string
	Points, Windows, Requests, Retries, Throttled, Errors int64
	// Dropped are points outside the asked window, Repeats records read twice and delivered
	// once, Collisions records whose id other content had (docs/cloud-alm-api.md). They are
	// members of the monitor's line (for Logs Insights) and summed in the run's metrics.
	Dropped, Repeats, Collisions int64
	// DeadLettered are records and events a sink refused for good, kept in the dead-letter
	// place; a member of the monitor's line and summed in the run's metrics, like Dropped.
	DeadLettered int64
	// Lag is how far the monitor's checkpoint is behind now (negative counts as 0).
	Lag time.Duration
	// Invariant names the invariant a window of the monitor failed (docs/design.md, "What a
	// complete window satisfies"): the window is held and read again next run. "" when none
	// did. It is the metric Incomplete (1 or 0) and a member of the line.
	Invariant string
}

// RunStats are the numbers of one run of one tenant.
type RunStats struct {
	Tenant   string
	Duration time.Duration
	Success  bool
	// Incomplete is a run that stopped at its deadline with work left, or whose window failed
	// an invariant (never a success).
	Incomplete bool
	Errors     int64
	MaxLag     time.Duration
	// APIBytes is the size of the run's API answers on the wire (the fair-use quota's measure).
	APIBytes int64
	// QuotaProjectionPercent is the tenant's month-to-date API bytes projected to the month, in
	// percent of its quota; nil when the run could not project it (then not written).
	QuotaProjectionPercent *float64
	// Version is the collector's release (internal/version): a member of the run's line, not a
	// dimension, so Logs Insights can tell runs of two releases apart at no metric cost.
	Version string
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// emfMonitorLine is one monitor's line: dimension [monitor]; the tenant is a member for Logs
// Insights, not a dimension, so the metrics do not multiply with the tenants.
type emfMonitorLine struct {
	AWS        emfMeta `json:"_aws"`
	Tenant     string  `json:"tenant"`
	Monitor    string  `json:"monitor"`
	Points     int64   `json:"Points"`
	Windows    int64   `json:"Windows"`
	Requests   int64   `json:"Requests"`
	Retries    int64   `json:"Retries"`
	Throttled  int64   `json:"Throttled"`
	Errors     int64   `json:"Errors"`
	LagSeconds float64 `json:"LagSeconds"`
	Incomplete int64   `json:"Incomplete"`
	Invariant  string  `json:"invariant,omitempty"`
	// Not declared as metrics (each would be billed per monitor): the run line sums them.
	Dropped      int64 `json:"Dropped"`
	Repeats      int64 `json:"Repeats"`
	Collisions   int64 `json:"Collisions"`
	DeadLettered int64 `json:"DeadLettered"`
}

// emfRunLine is the run's line: MaxLagSeconds by [tenant] (the one per-tenant metric: the
// worst-lag alarm and the fleet view read it), everything without a dimension.
type emfRunLine struct {
	AWS           emfMeta `json:"_aws"`
	Tenant        string  `json:"tenant"`
	RunDuration   float64 `json:"RunDuration"`
	RunSuccess    int64   `json:"RunSuccess"`
	RunIncomplete int64   `json:"RunIncomplete"`
	Errors        int64   `json:"Errors"`
	MaxLagSeconds float64 `json:"MaxLagSeconds"`
	APIBytes      int64   `json:"APIBytes"`
	Dropped       int64   `json:"Dropped"`
	Repeats       int64   `json:"Repeats"`
	Collisions    int64   `json:"Collisions"`
	DeadLettered  int64   `json:"DeadLettered"`
	// QuotaProjectionPercent has no dimension: its Maximum is the fleet's worst tenant at the
	// price of one metric; the run's warning in the log names the tenant.
	QuotaProjectionPercent *float64 `json:"QuotaProjectionPercent,omitempty"`
	Version                string   `json:"version,omitempty"`
}

// QuotaProjectionMetric is the run's metric of the month-to-date API bytes projected to the
// month, in percent of the tenant's quota (no dimension; the stack alarms on its Maximum).
const QuotaProjectionMetric = "QuotaProjectionPercent"

var (
	monitorMetrics = []emfMetric{
		{"Points", "Count"}, {"Windows", "Count"}, {"Requests", "Count"}, {"Retries", "Count"},
		{"Throttled", "Count"}, {"Errors", "Count"}, {"LagSeconds", "Seconds"}, {"Incomplete", "Count"},
	}
	runMetrics = []emfMetric{
		{"RunDuration", "Milliseconds"}, {"RunSuccess", "Count"}, {"RunIncomplete", "Count"}, {"Errors", "Count"}, {"MaxLagSeconds", "Seconds"},
		{"APIBytes", "Bytes"}, {"Dropped", "Count"}, {"Repeats", "Count"}, {"Collisions", "Count"}, {"DeadLettered", "Count"},
	}
)

// Write writes one EMF line per monitor (namespace CalmCollector, dimension [monitor]:
// Points, Windows, Requests, Retries, Throttled, Errors in Count, LagSeconds in Seconds,
// Incomplete 1 when a window failed an invariant, named by the member invariant) and one
// for the run (no dimension: RunDuration in Milliseconds, RunSuccess 1 or 0, RunIncomplete 1
// when the run stopped at its deadline with work left or a window failed an invariant, Errors, MaxLagSeconds, APIBytes in
// Bytes, Dropped, Repeats, Collisions and DeadLettered summed over the monitors, QuotaProjectionPercent in
// Percent when the run projected it; and MaxLagSeconds by [tenant]), all stamped ts, in one Write. Only MaxLagSeconds carries the tenant, so each
// further tenant adds one billed metric (docs/deploy.md, "Cost"); the tenant is a member of
// every line for Logs Insights. CloudWatch drops a metric whose dimension value is empty, so an
// empty tenant or monitor is an error and nothing is written.
func Write(w io.Writer, ts time.Time, monitors []MonitorStats, run RunStats) error {
	if run.Tenant == "" {
		return errors.New("emf: run without tenant")
	}
	meta := func(dims []string, metrics []emfMetric) emfMeta {
		return emfMeta{Timestamp: ts.UnixMilli(), CloudWatchMetrics: []emfDirective{{Namespace: Namespace, Dimensions: [][]string{dims}, Metrics: metrics}}}
	}
	runMeta := meta([]string{}, runMetrics)
	runMeta.CloudWatchMetrics = append(runMeta.CloudWatchMetrics, emfDirective{Namespace: Namespace,
		Dimensions: [][]string{{"tenant"}}, Metrics: []emfMetric{{"MaxLagSeconds", "Seconds"}}})
	if run.QuotaProjectionPercent != nil {
		runMeta.CloudWatchMetrics[0].Metrics = append(slices.Clip(runMeta.CloudWatchMetrics[0].Metrics), emfMetric{QuotaProjectionMetric, "Percent"})
	}
	var buf []byte
	var dropped, repeats, collisions, dead int64
	for i, m := range monitors {
		dropped, repeats, collisions, dead = dropped+m.Dropped, repeats+m.Repeats, collisions+m.Collisions, dead+m.DeadLettered
		if m.Tenant == "" || m.Monitor == "" {
			return fmt.Errorf("emf: monitor stats %d without tenant or monitor (tenant %q, monitor %q)", i, m.Tenant, m.Monitor)
		}
		incomplete := int64(0)
		if m.Invariant != "" {
			incomplete = 1
		}
		line, err := json.Marshal(emfMonitorLine{
			AWS: meta([]string{"monitor"}, monitorMetrics), Tenant: m.Tenant, Monitor: m.Monitor,
			Points: m.Points, Windows: m.Windows, Requests: m.Requests, Retries: m.Retries,
			Throttled: m.Throttled, Errors: m.Errors, LagSeconds: seconds(m.Lag), Incomplete: incomplete, Invariant: m.Invariant,
			Dropped: m.Dropped, Repeats: m.Repeats, Collisions: m.Collisions, DeadLettered: m.DeadLettered,
		})
		if err != nil {
			return fmt.Errorf("emf: encode %s/%s: %w", m.Tenant, m.Monitor, err)
		}
		buf = append(append(buf, line...), '\n')
	}
	success := int64(0)
	if run.Success {
		success = 1
	}
	incomplete := int64(0)
	if run.Incomplete {
		incomplete = 1
	}
	line, err := json.Marshal(emfRunLine{
		AWS: runMeta, Tenant: run.Tenant,
		RunDuration: float64(run.Duration) / float64(time.Millisecond), RunSuccess: success, RunIncomplete: incomplete,
		Errors: run.Errors, MaxLagSeconds: seconds(run.MaxLag), APIBytes: run.APIBytes,
		Dropped: dropped, Repeats: repeats, Collisions: collisions, DeadLettered: dead, QuotaProjectionPercent: run.QuotaProjectionPercent,
		Version: run.Version,
	})
	if err != nil {
		return fmt.Errorf("emf: encode run of %s: %w", run.Tenant, err)
	}
	buf = append(append(buf, line...), '\n')
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("emf: write: %w", err)
	}
	return nil
}

func seconds(d time.Duration) float64 {
	return max(d, 0).Seconds()
}
