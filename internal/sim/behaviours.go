package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Behaviours are ways a real tenant may behave that SAP's material allows but the default
// simulator does not take (docs/cloud-alm-api.md, "What is confirmed"). Each is switched on by
// name (`calmctl sim --behave NAME[,NAME…]`, Config.Behaviours) so that the collector's
// guards can be tried against it: a run against any of them must be exact, or loud (not ok,
// checkpoint not past the missing data), never ok with data missing. The e2e suite runs every
// name in BehaviourNames.
type Behaviours struct {
	// Fields are added by the rows of behaviourTable below; each documents itself there.

	// RUMServiceLimit: rum answers 428 when no serviceId is given, and the tenant has more
	// than rumMaxServices services (rum-service-limit).
	RUMServiceLimit bool
	// StartFilteredEvents: the events API returns only events that started inside the asked
	// range, and one event in ten lasts two to three days (start-filtered-events).
	StartFilteredEvents bool
	// EventsLastDay: the events API ignores startTime and endTime and serves the events that
	// started in the last 24 hours; and one event in ten lasts two to three days, as under
	// StartFilteredEvents (events-last-day).
	EventsLastDay bool
	// IgnoreFromTo: calm-metrics ignores from and to and serves the period asked for (the last
	// hour without one), as SAP's Postman collection only ever asks (ignore-from-to).
	IgnoreFromTo bool
	// EndStamps: calm-metrics stamps a data point with its bucket's end (end-stamps).
	EndStamps bool
	// NoServiceList: calm-metrics takes serviceId=a,b,c as one unknown service id; only a
	// serviceId parameter per service selects several (no-service-list).
	NoServiceList bool
	// LogsExmImOnly: the logs API serves records under provider exm.im only; the other log
	// providers answer empty (logs-exm-im-only).
	LogsExmImOnly bool
	// LateBuckets delays every metrics bucket: it is served only once this long has passed
	// after its end, on the simulator's clock (an ingestion delay). 0: a bucket is served as
	// soon as it closes.
	LateBuckets time.Duration
	// LateRecords delays every log record and span: it is served only once this long has
	// passed after its minute closed, on the simulator's clock (an ingestion delay of the
	// raw-data logs and traces APIs). 0: served as soon as its minute closes.
	LateRecords time.Duration
	// TruncateCap cuts the result set of a metrics, logs or traces request asked with
	// onLimit=TRUNCATE at this many items (data points, log records, spans) before paging, and
	// reports the cut size as x-total-count: what is past the cap is never served for that
	// request. Without onLimit=TRUNCATE a larger result set is refused with 403 "Response total
	// count is over the limit". 0: no cap.
	TruncateCap int
}

// behaviour is one row of behaviourTable: a name, what it does, and how it sets Behaviours.
type behaviour struct {
	name string
	doc  string
	set  func(*Behaviours)
}

// behaviourTable lists every behaviour, in the order they are shown to users.
var behaviourTable = []behaviour{
	// The tenant shape rows (issue 20 items 4, 6, 7: docs/cloud-alm-api.md).
	{"rum-service-limit", "rum answers 428 \"At most 5 services or systems allowed in scope\" to a query naming no serviceId, " +
		"and the tenant has more than 5 RUM services (SAP's Grafana plug-in issue #109)",
		func(b *Behaviours) { b.RUMServiceLimit = true }},
	{"start-filtered-events", "the status events API filters on start time: an event that started before the asked range is " +
		"never returned for it; and some events last days, longer than a lookback",
		func(b *Behaviours) { b.StartFilteredEvents = true }},
	{"events-last-day", "the status events API ignores startTime and endTime and serves the events that started in the last " +
		"24 hours; and some events last days, longer than a lookback",
		func(b *Behaviours) { b.EventsLastDay = true }},
	{"ignore-from-to", "calm-metrics ignores from and to and serves by period only (the last hour when none is given), " +
		"as SAP's Postman collection only ever asks with period=L1H or C24H",
		func(b *Behaviours) { b.IgnoreFromTo = true }},
	{"end-stamps", "calm-metrics stamps each data point with its bucket's end: the last bucket of every request falls on its to",
		func(b *Behaviours) { b.EndStamps = true }},
	{"no-service-list", "calm-metrics takes serviceId=a,b,c as one unknown service id (no data); only repeated serviceId " +
		"parameters select several services",
		func(b *Behaviours) { b.NoServiceList = true }},
	// Issue 20 item 5: a tenant whose exceptions are all under exm.im.
	{"logs-exm-im-only", "the logs API serves records under provider exm.im only; every other log provider SAP lists " +
		"(exm.jam, bsm, im, iep, jam.def, jam.run, jam.run_step) answers empty",
		func(b *Behaviours) { b.LogsExmImOnly = true }},
	// Rows of the verify work (issue 20: late data, caps that cut); keep them together.
	{"late-buckets", "every metrics bucket is served only " + lateBucketDelay.String() +
		" after it closes (an ingestion delay); a run asking earlier gets nothing for it",
		func(b *Behaviours) { b.LateBuckets = lateBucketDelay }},
	{"late-records", "every log record and span is served only " + lateBucketDelay.String() +
		" after its minute closes (an ingestion delay of the raw-data logs and traces APIs); a run asking earlier gets nothing of it",
		func(b *Behaviours) { b.LateRecords = lateBucketDelay }},
	{"truncate-cap", fmt.Sprintf("metrics, logs and traces requests with onLimit=TRUNCATE get their result set cut at %d items, "+
		"x-total-count saying the cut size, instead of being paged through", truncateCap),
		func(b *Behaviours) { b.TruncateCap = truncateCap }},
}

// lateBucketDelay is the late-buckets delay: longer than the collector's default lag (2m), well
// inside its default settle horizon (30m).
const lateBucketDelay = 7 * time.Minute

// truncateCap is the truncate-cap cap: more than one 5-minute window of the simulator's
// busiest default monitor holds, less than an hour of it.
const truncateCap = 100

// BehaviourNames returns the name of every behaviour, in table order.
func BehaviourNames() []string {
	names := make([]string, len(behaviourTable))
	for i, b := range behaviourTable {
		names[i] = b.name
	}
	return names
}

// BehaviourDoc returns what the named behaviour does ("" for an unknown name).
func BehaviourDoc(name string) string {
	i := slices.IndexFunc(behaviourTable, func(b behaviour) bool { return b.name == name })
	if i < 0 {
		return ""
	}
	return behaviourTable[i].doc
}

// ParseBehaviours reads a comma list of behaviour names ("" = none), naming every unknown one
// and the known ones.
func ParseBehaviours(list string) (Behaviours, error) {
	var b Behaviours
	var unknown []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		i := slices.IndexFunc(behaviourTable, func(r behaviour) bool { return r.name == name })
		if i < 0 {
			unknown = append(unknown, name)
			continue
		}
		behaviourTable[i].set(&b)
	}
	if len(unknown) > 0 {
		return Behaviours{}, fmt.Errorf("unknown behaviour %s: use a comma list of %s",
			strings.Join(unknown, ", "), strings.Join(BehaviourNames(), ","))
	}
	return b, nil
}
