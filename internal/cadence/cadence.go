// Package cadence holds the defaults of when collection asks Cloud ALM: the time between
// scheduled runs and the settle horizon of the late-data re-check (docs/design.md §7, "Late
// data"). Collection (internal/collect) and the connection test's quota projection
// (internal/conntest) both take them from here, so that the test projects the requests
// collection makes. It imports only the standard library.
package cadence

import "time"

const (
	// SchedulePeriod is the default time between scheduled runs (the stack's rate(5 minutes)).
	SchedulePeriod = 5 * time.Minute
	// Settle is the default settle horizon (CALM_SETTLE): longer than the ingestion delays
	// reported for Cloud ALM (a bucket filled some minutes after it closes), short enough that
	// the re-check stays one small request per monitor and run. The logs and traces monitors,
	// whose counts cost a request per service, re-check once per horizon.
	Settle = 30 * time.Minute
)
