// Package transcript is the format of a recorded run with Cloud ALM (docs/transcripts.md):
// every HTTP exchange of the run, the token endpoint's included, redacted as it is written
// (tokens, client secret, any Authorization value, key and certificate material, and service
// names the operator asks to hide), with the run's clock and non-secret settings, and what the
// run delivered. internal/calm records through it (calm.Options.Recorder), internal/sim serves a
// transcript again (sim.Replay), and the replay suite holds the collector to it.
//
// It imports only the standard library: it knows no Cloud ALM path and no house type.
package transcript
