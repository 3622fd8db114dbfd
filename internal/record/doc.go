// Package record owns the collected record, the output contract of docs/design.md §4: one JSON object per
// data point, event or log line, with an id that is stable across runs and machines. A Record is
// its Series, what the points of one series share (immutable, made once per series), and its point.
package record
