package record

import (
	"cmp"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// Attribute names FromLogs gives a log record's severity fields (the OTLP sink maps them back).
const (
	AttrSeverityText   = "severityText"
	AttrSeverityNumber = "severityNumber"
)

// DefaultLogName names a log record that has neither an event name nor a scope name.
const DefaultLogName = "log"

// FromLogs turns every log record of ld into a Record of kind log and calls fn with each, in the
// order of ld; it stops at and returns the first error of fn.
//
//   - Name is the log record's event name; without one, the name of its instrumentation scope
//     (the Cloud ALM logs API names the producer there, e.g. "sap.calm.exm"); without either,
//     DefaultLogName. The name says what kind of log line it is; the line itself is the body.
//   - Time is the log record's timestamp in UTC, or its observed timestamp when the timestamp is
//     zero (a record with neither has the zero Unix time, and a collector's window drops it).
//   - Body is the body as pcommon.Value.AsString (maps and slices as JSON).
//   - The series' attributes are the resource attributes merged with the log record's (the
//     log record wins), every value as AsString, plus severityText and severityNumber (the
//     number in decimal) when set; those two win over attributes of the same name. Scope
//     attributes, trace and span ids and flags are not carried. Log records of equal series
//     fields in one call share one *Series.
//   - ID is the series' ContentID of time and body: a log line the API serves again,
//     unchanged, gets the same id; any change gives a new one.
func FromLogs(tenant, monitor string, ld plog.Logs, fn func(Record) error) error {
	c := converter{tenant: tenant, monitor: monitor}
	for _, rl := range ld.ResourceLogs().All() {
		c.resource = sortedPairs(c.resource[:0], rl.Resource().Attributes())
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				c.mergeAttrs(lr.Attributes())
				if s := lr.SeverityText(); s != "" {
					c.set(AttrSeverityText, ValidText(s))
				}
				if n := lr.SeverityNumber(); n != plog.SeverityNumberUnspecified {
					c.set(AttrSeverityNumber, strconv.Itoa(int(n)))
				}
				name := cmp.Or(ValidText(lr.EventName()), ValidText(sl.Scope().Name()), DefaultLogName)
				ts := lr.Timestamp()
				if ts == 0 {
					ts = lr.ObservedTimestamp()
				}
				t := time.Unix(0, int64(ts)).UTC()
				body := ValidText(lr.Body().AsString())
				s := c.known[c.seriesAt(KindLog, name, "", false)].s
				if err := fn(Record{Series: s, Point: Point{ID: s.ContentID(t, body), Time: t, Body: body}}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
