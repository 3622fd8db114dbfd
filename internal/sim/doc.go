// Package sim is a Cloud ALM + XSUAA simulator for tests and local runs.
//
// It owns everything the project pretends about the far side of the wire: the XSUAA token
// endpoint (client credentials in the form body, HTTP Basic, or an X.509 client certificate),
// the analytics discovery API, the landscape API, the raw-data metrics API (OTLP JSON built
// with pdata), the status events API and the raw-data logs API (OTLP protobuf). Data is
// deterministic for any window and immutable once a bucket is complete by the simulator's
// clock, so a test can compare what a collector delivered with [Server.Expected].
//
// Data model: Config.Services services (S4H.100, S4H.200, CPI.EU10, SF.PROD, BTP.SUB1,
// ARIBA.NET, then numbered copies) with fixed UUIDs. Each metrics provider has a few series
// per service (its dimension values); a series has a row in a bucket with a fixed
// probability (hm always, jam 30%, exm 35%, iep 20%, …) and every measure of the row is a
// data point whose value is a hash of (provider, service, series, bucket, resolution).
// Service-level dimensions are resource attributes, the rest data-point attributes;
// counts are delta int sums, everything else double gauges; a point's time is its bucket
// start. Status events come from 6-hour slots per service; their status follows the clock
// (Planned, Open, InProgress, Resolved) and bsm metrics are derived from them.
//
// Faults (wrong credentials, missing scopes, 429, 503, slow answers, HTML pages, reset
// connections, pagers that repeat or never end, garbled JSON) are switched with
// [Server.SetFaults]. The shapes follow docs/design.md §1; choices about things SAP does not document
// are marked "unconfirmed" beside the code that makes them.
package sim
