// Package state owns the collector's durable memory per tenant: one checkpoint per monitor (where
// the next window starts and how the last run went), the lease that keeps two runs from collecting
// the same tenant at once, and the marks that remember which events were already emitted.
//
// Two stores implement the same contract: FileStore (a directory, for calmctl and local runs) and
// DynamoStore (the table the CDK stack creates, for the Lambda). Open picks one from a spec string.
package state
