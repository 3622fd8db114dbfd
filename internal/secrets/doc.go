// Package secrets owns where connector secrets live and how they are read and written: a local
// file (calmctl) or an AWS Secrets Manager secret (the Lambdas), read through a short cache so a
// rotated secret takes effect without a redeploy. It hands out the raw secret bytes; parsing them
// into settings is internal/calm's job. Secret content never reaches an error or a log line.
package secrets
