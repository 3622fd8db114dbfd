package sink

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/record"
)

// The mapping of collected records back to OTLP, for the OTLP sink.
//
// Metrics (kind "metric"):
//   - name, unit, value and attributes pass through unchanged; every record attribute (Cloud ALM's
//     resource attributes merged with the point's, docs/design.md §4) becomes a data-point attribute.
//   - The resource carries service.name=sap-cloud-alm, calm.tenant and calm.monitor; the scope is
//     the collector's.
//   - A point that Cloud ALM served as a delta sum (Record.Count), or a count-like measure
//     (the monitor table's counts, for sources that serve counts as gauges), becomes a monotonic DELTA sum;
//     everything else a gauge.
//     Cloud ALM stamps a bucket's point at the bucket's start (the collector's windows [From, To)
//     rely on that too), so the point counts what happened in [t, t+resolution): the delta point
//     gets StartTimestamp = t (the record time, unchanged) and Timestamp = t+resolution, capped at
//     the batch's To. Backends that accept only delta sums (Dynatrace) take them; backends that
//     want cumulative data convert deltas themselves (or with the collector's deltatocumulative
//     processor).
//   - A gauge point's Timestamp is the record time; it has no StartTimestamp.
//   - A record without a value (HasValue false) becomes a point flagged "no recorded value".
//
// Status events (kind "event") become log records: body = eventName (": eventDescription" when
// there is one), EventName = the record name, attributes = every field, severity from eventType
// (Disruption ERROR, Degradation WARN, Maintenance / Planned Availability / Communication INFO),
// Timestamp = record time.
//
// Logs (kind "log") become log records with the record's body and attributes and Timestamp = the
// record time; attributes "severityText" and "severityNumber", when present, also set the log
// record's severity fields. The record name goes into the attribute calm.record.name.
//
// Every log record also gets the attribute calm.record.id = the record id (stable across runs),
// so that a backend can drop a re-delivered record; a record attribute of that name is kept.

// Resource and record attribute names added by the mapping.
const (
	otlpServiceName    = "sap-cloud-alm"
	otlpScopeName      = "github.com/calm-collector/calm-collector"
	attrTenant         = "calm.tenant"
	attrMonitor        = "calm.monitor"
	attrRecordID       = "calm.record.id"
	attrRecordName     = "calm.record.name"
	attrSeverityText   = "severityText"
	attrSeverityNumber = "severityNumber"
)

// isCount reports whether the metric name is a measure that counts things per bucket: one of the
// Counts of the monitor table (internal/monitor), matched on the name or its last segment, or a
// "<name>.count" of a histogram or summary. Only sure counts are listed there: a gauge sent as a
// sum would be added up by the backend, a count sent as a gauge is merely less convenient.
func isCount(name string) bool { return monitor.IsCountName(name) }

// otlpMapper maps the records of one batch; it is built once per batch so that every request of
// the batch uses the same bucket width.
type otlpMapper struct {
	tenant, monitor string
	from, to        time.Time
	// step is the bucket width of delta sums: see bucketStep.
	step time.Duration
	// observed is the ObservedTimestamp of every log record.
	observed time.Time
}

func newOTLPMapper(b Batch, now time.Time) otlpMapper {
	return otlpMapper{
		tenant: b.Tenant, monitor: b.Monitor, from: b.From, to: b.To,
		step: bucketStep(b), observed: now,
	}
}

// bucketStep is the width of the buckets of a batch: the smallest gap between two distinct
// metric record times, at most To−From; To−From when all records share one time (the usual
// case: a window is one bucket); 0 when the batch has no window.
func bucketStep(b Batch) time.Duration {
	step := max(b.To.Sub(b.From), 0)
	var times []time.Time
	for _, s := range b.Series {
		if s.Kind() == record.KindMetric {
			for _, p := range s.Points {
				times = append(times, p.Time)
			}
		}
	}
	slices.SortFunc(times, time.Time.Compare)
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap > 0 && (step == 0 || gap < step) {
			step = gap
		}
	}
	return step
}

// deltaInterval is the interval a count point at t covers: [t, t+step), the end capped at the
// batch's To when t lies in the window. ok is false when the batch gives no bucket width.
func (m otlpMapper) deltaInterval(t time.Time) (start, end time.Time, ok bool) {
	if m.step <= 0 {
		return time.Time{}, time.Time{}, false
	}
	end = t.Add(m.step)
	if t.Before(m.to) && end.After(m.to) {
		end = m.to
	}
	return t, end, true
}

// metricKey groups the points of one OTLP metric.
type metricKey struct {
	name, unit string
	count      bool
}

// metrics maps the metric records of recs to one OTLP payload; other kinds are skipped.
func (m otlpMapper) metrics(recs []record.Record) (pmetric.Metrics, error) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	m.resource(rm.Resource().Attributes())
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(otlpScopeName)
	ms := sm.Metrics()
	byKey := map[metricKey]pmetric.NumberDataPointSlice{}
	for i := range recs {
		r := &recs[i]
		if r.Kind() != record.KindMetric {
			continue
		}
		key := metricKey{name: r.Name(), unit: r.Unit(), count: r.Count() || isCount(r.Name())}
		dps, ok := byKey[key]
		if !ok {
			om := ms.AppendEmpty()
			om.SetName(r.Name())
			om.SetUnit(r.Unit())
			if key.count {
				sum := om.SetEmptySum()
				sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
				sum.SetIsMonotonic(true)
				dps = sum.DataPoints()
			} else {
				dps = om.SetEmptyGauge().DataPoints()
			}
			byKey[key] = dps
		}
		dp := dps.AppendEmpty()
		if key.count {
			start, end, ok := m.deltaInterval(r.Time)
			if !ok {
				return pmetric.Metrics{}, fmt.Errorf("count %q at %s: the batch has no window [from, to) to give the delta sum its interval",
					r.Name(), r.Time.UTC().Format(time.RFC3339))
			}
			dp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			dp.SetTimestamp(pcommon.NewTimestampFromTime(end))
		} else {
			dp.SetTimestamp(pcommon.NewTimestampFromTime(r.Time))
		}
		if r.HasValue {
			dp.SetDoubleValue(r.Value)
		} else {
			dp.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
		}
		putStrings(dp.Attributes(), r.Series)
	}
	return md, nil
}

// logs maps the event and log records of recs to one OTLP payload; metrics are skipped.
func (m otlpMapper) logs(recs []record.Record) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	m.resource(rl.Resource().Attributes())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(otlpScopeName)
	lrs := sl.LogRecords()
	observed := pcommon.NewTimestampFromTime(m.observed)
	for i := range recs {
		r := &recs[i]
		if r.Kind() != record.KindEvent && r.Kind() != record.KindLog {
			continue
		}
		lr := lrs.AppendEmpty()
		if !r.Time.IsZero() {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(r.Time))
		}
		lr.SetObservedTimestamp(observed)
		attrs := lr.Attributes()
		putStrings(attrs, r.Series)
		if _, ok := r.LookupAttr(attrRecordID); !ok && r.ID != "" {
			attrs.PutStr(attrRecordID, r.ID)
		}
		if r.Kind() == record.KindEvent {
			lr.SetEventName(r.Name())
			lr.Body().SetStr(eventBody(r))
			sev, text := eventSeverity(r.Attr("eventType"))
			lr.SetSeverityNumber(sev)
			lr.SetSeverityText(text)
			continue
		}
		lr.Body().SetStr(r.Body)
		if _, ok := r.LookupAttr(attrRecordName); !ok && r.Name() != "" {
			attrs.PutStr(attrRecordName, r.Name())
		}
		if s := r.Attr(attrSeverityText); s != "" {
			lr.SetSeverityText(s)
		}
		if n, err := strconv.Atoi(r.Attr(attrSeverityNumber)); err == nil && n > 0 && n <= int(plog.SeverityNumberFatal4) {
			lr.SetSeverityNumber(plog.SeverityNumber(n))
		}
	}
	return ld
}

func (m otlpMapper) resource(attrs pcommon.Map) {
	attrs.PutStr("service.name", otlpServiceName)
	attrs.PutStr(attrTenant, m.tenant)
	attrs.PutStr(attrMonitor, m.monitor)
}

// eventBody is the record's body when it has one, else "eventName: eventDescription" (either part
// alone when the other is empty).
func eventBody(r *record.Record) string {
	if r.Body != "" {
		return r.Body
	}
	name, desc := r.Attr("eventName"), r.Attr("eventDescription")
	switch {
	case name != "" && desc != "" && desc != name:
		return name + ": " + desc
	case name != "":
		return name
	default:
		return desc
	}
}

// eventSeverity maps a Cloud ALM status event type (docs/design.md §1.5) to an OTLP severity; an unknown
// type has no severity.
func eventSeverity(eventType string) (plog.SeverityNumber, string) {
	switch strings.ToLower(strings.TrimSpace(eventType)) {
	case "disruption":
		return plog.SeverityNumberError, "ERROR"
	case "degradation":
		return plog.SeverityNumberWarn, "WARN"
	case "maintenance", "planned availability", "communication":
		return plog.SeverityNumberInfo, "INFO"
	}
	return plog.SeverityNumberUnspecified, ""
}

func putStrings(dst pcommon.Map, s *record.Series) {
	dst.EnsureCapacity(s.NumAttrs())
	for k, v := range s.Attrs() {
		dst.PutStr(k, v)
	}
}
