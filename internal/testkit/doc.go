// Package testkit holds the test helpers that more than one package needs, written once: the
// CI-or-skip rule for a missing tool, a clock the test moves, a buffer safe for goroutines, a
// memory sink, a front that redirects one path to a trap and a front that checks each request
// before passing it on (the destinations' limits stand-ins). It is imported only from _test.go
// files; the AWS doubles (moto_server, the Lambda RIE) are in internal/awstest, which uses it.
package testkit
