// Package sim is a Cloud ALM + XSUAA simulator for tests and local runs.
//
// It owns everything the project pretends about the far side of the wire: the XSUAA token
// endpoint (client credentials in the form body, HTTP Basic, or an X.509 client certificate),
// the analytics discovery API, the landscape API, the raw-data metrics API (OTLP JSON built
// with pdata), the status events API and the raw-data logs API (OTLP protobuf). Data is
// deterministic for any window and immutable once a bucket is complete by the simulator's
// clock, so a test can compare what a collector delivered with [Server.Expected].
//
// Faults (wrong credentials, missing scopes, 429, 503, slow answers, HTML pages, reset
// connections, pagers that repeat or never end, garbled JSON) are switched with
// [Server.SetFaults]. The shapes follow DESIGN §1; choices about things SAP does not document
// are marked "unconfirmed" beside the code that makes them.
package sim
