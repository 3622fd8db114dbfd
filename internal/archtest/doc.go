// Package archtest holds no code: its test checks that the import rules stated in
// docs/architecture.md ("Packages") hold for the packages `go list` reports.
package archtest
