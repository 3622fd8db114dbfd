// Package collect owns the collection run: the table of Cloud ALM monitors, the window arithmetic
// of docs/design.md §5 ([from,to) aligned to the resolution, to = floor(now−lag)), and the runner that
// takes a tenant's lease, walks every monitor from its checkpoint window by window, writes each
// window to every sink and only then advances the checkpoint, and reports what it did as a
// Summary (and as CloudWatch EMF self-metrics).
//
// It speaks to Cloud ALM, the state store and the sinks through the small interfaces declared in
// this package (Client, Store, Sink); internal/calm, internal/state and internal/sink satisfy them.
package collect
