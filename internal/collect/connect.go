package collect

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/transcript"
)

// ClientOptions are what differs between the callers that turn a connector secret into a Cloud
// ALM client: the collect function, `calmctl collect` and the console's "Collect now".
type ClientOptions struct {
	// Base is the HTTP transport (nil: http.DefaultTransport).
	Base http.RoundTripper
	// Timeout bounds one HTTP exchange with Cloud ALM (0: 2 minutes).
	Timeout time.Duration
	// UserAgent names the caller, e.g. "calm-collector lambda".
	UserAgent string
	// Logger receives the settings' warnings and the client's retries (nil: slog.Default()).
	Logger *slog.Logger
	// Concurrency is how many monitors the run fetches at once (0: DefaultConfig's): the callers
	// that share the client's memory budget (calm.Options.MemoryBudget).
	Concurrency int
	// Recorder, when set, records every exchange with Cloud ALM as a transcript
	// (docs/transcripts.md, Recording).
	Recorder *transcript.Recorder
}

// Connect is the one way from a connector secret to a Cloud ALM client ready for a [Runner]:
// the settings are parsed (both secret forms, every problem at once) and their warnings logged
// (the client counts each monitor's requests: calm.Client.Counting). connector, when not "", names the tenant of a
// secret without a top-level "name" (a service key as downloaded), so that records, state and
// the stack's metrics agree on the connector's name. Errors never hold the secret's values.
func Connect(raw []byte, connector string, o ClientOptions) (*calm.Client, error) {
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	settings, warnings, err := calm.ParseSettings(raw)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		logger.Warn("connector settings", "connector", connector, "warning", w)
	}
	if connector != "" && !calm.NamesItself(raw) {
		settings.Name = connector
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	concurrency := o.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConfig().Concurrency
	}
	c, err := calm.New(settings, calm.Options{
		HTTPClient: &http.Client{Transport: o.Base, Timeout: timeout},
		Logger:     logger, UserAgent: o.UserAgent,
		// Half the process's memory limit (GOMEMLIMIT, or what the collect function sets from its
		// memory size) for the answers held, half for what they decode into; without a limit,
		// the client's default cap.
		MemoryBudget: debug.SetMemoryLimit(-1) / 2, Concurrency: concurrency,
		Recorder: o.Recorder,
	})
	if err != nil {
		return nil, fmt.Errorf("build the Cloud ALM client: %w", err)
	}
	return c, nil
}

// For sets the runner's tenant, its API host, client and scopes from a client Connect built, and returns r.
func (r *Runner) For(c *calm.Client) *Runner {
	r.Tenant, r.Host, r.Client, r.Scopes = c.Settings().Name, APIHost(c.Settings().URL), c, c.Tokens()
	r.extraErr = r.addSecretMonitors(c.Settings().ExtraMonitors)
	return r
}

// addSecretMonitors adds the monitors the connector secret gives as data (its extraMonitors
// field) to Config.Extra; a bad list is an error naming the field, which the run reports.
func (r *Runner) addSecretMonitors(raw []byte) error {
	extra, err := monitor.Builtin().ParseDefinitions(raw)
	if err != nil {
		return fmt.Errorf("connector secret: %w", err)
	}
	if len(extra) > 0 {
		r.Config.Extra = append(slices.Clip(r.Config.Extra), extra...)
	}
	return nil
}
