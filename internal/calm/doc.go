// Package calm is the only package that speaks HTTP and OAuth to SAP Cloud ALM.
//
// It owns:
//   - the connector settings (both secret forms, see ParseSettings) and the redacting Secret type;
//   - the OAuth token (client credentials against XSUAA, binding secret or x509 mutual TLS),
//     cached across calls so that a warm Lambda reuses it;
//   - a small API client (Client) with retries, bounded bodies and typed errors (*APIError,
//     *TokenError, *SettingsError);
//   - paging (limit/offset + x-total-count) in one place, as iterators that cannot skip: whether
//     the tenant counts data points or rows, caps pages below the limit or changes its total
//     while paging, every point is delivered (some twice, which the collector drops by id), and
//     an end the pager cannot reconcile with the total fails the window instead of ending it.
//     How it decides is the doc of pages (paging.go) and docs/cloud-alm-api.md. Pipelined: the
//     next full page is requested while one is decoded;
//   - the calls the collector needs: analytics discovery, raw-data metrics (OTLP protobuf or
//     JSON, decoded with pdata), status events, logs and traces.
//
// Nothing in here logs or returns a client secret, a private key or a token.
package calm

// TimeLayout is the time format of the from/to (metrics) and startTime/endTime (events)
// query parameters: yyyyMMddHHmmss in UTC. The format is unconfirmed for some APIs; this is
// the one place it lives.
const TimeLayout = "20060102150405"
