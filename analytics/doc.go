// Package analytics holds what the stack creates to look at the collected data where it lands:
// the Athena table over the S3 archive (columns, partition projection on the S3 sink's key
// layout), the named Athena queries and the CloudWatch Logs Insights queries for the questions
// operators ask first (see docs/analytics.md).
//
// It is plain data with no dependencies, so infra/cdk renders it into the template and the tests
// here check it against what the collector really writes (the S3 sink on moto, the monitor table).
package analytics
