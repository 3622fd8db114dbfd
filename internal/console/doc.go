// Package console owns the local web console (`calmctl console`): a page to add a connector
// ("+ Add Connector → Web Service", or the BTP service key pasted whole), test it, save it when
// the test passes, and watch collection (last window, lag, points per window, last error).
// "Collect now" runs one scheduled collection of a stored connector with internal/collect, into
// the console's state store and records file: the only way the console writes state.
//
// The console is a single-user tool bound to loopback. Everything it serves is embedded
// (html/template pages, one small vanilla script, one stylesheet) and sent under a strict
// Content-Security-Policy. State-changing requests need the per-session anti-CSRF token and a
// same-origin Origin; every request needs a Host naming the listen address (DNS-rebinding guard).
// The client secret is write-only: it is never sent back to the page nor logged.
//
// Where connectors live is a Connectors (a directory of <name>.json files, or fixed secrets:
// files and Secrets Manager); where they are tested is local (internal/conntest) or a deployed
// testconn function URL (SigV4-signed through internal/funcurl).
package console
