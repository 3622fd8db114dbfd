// Package awstest owns the test doubles for AWS: one shared moto_server per test binary (Secrets
// Manager, DynamoDB, S3, CloudWatch on loopback) and the Lambda Runtime Interface Emulator that runs
// the functions' bootstrap binaries the way Lambda does. It is imported only from _test.go files.
//
// A test that needs a tool which is not installed fails when CI=true and is skipped otherwise
// (testkit.Missing), so a missing tool never passes silently in CI.
package awstest
