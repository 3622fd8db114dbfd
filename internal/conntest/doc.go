// Package conntest owns the connection test (docs/design.md §3): the one implementation behind the
// testconn Lambda and `calmctl test`. Run takes connector settings (either secret form), walks the
// checks settings → reach → token → scopes → api → monitor:<id>, and returns a Report that says,
// for every check, what happened and, for every failure, what to do in the words of the BTP and
// Cloud ALM setup. A check that depends on a failed one is skipped with the reason.
//
// A report never holds a secret: details are built from non-secret values only, and the client
// secret, private key and issued token are scrubbed from the finished report as a last guard.
package conntest
