package collect

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/cadence"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/quota"
)

// Config holds the settings of a collection run. Start from DefaultConfig and change what differs.
type Config struct {
	// Monitors is ["auto"] (every monitor whose confirmed scope the token grants) or a list of ids.
	Monitors []string
	// Extra are analytics monitors given as data (monitor.Definition: calmctl collect
	// --extra-monitors FILE, CALM_EXTRA_MONITORS), known besides the built-in ones.
	Extra []monitor.Monitor
	// Resolution is the window size and the API's bucket size: 1m, 5m, 10m, 15m, 30m, 1h or 24h.
	Resolution time.Duration
	// Lag keeps the newest data out of a run so that late points arrive first: to = floor(now−lag).
	Lag time.Duration
	// Lookback is how far back the first run of a monitor starts.
	Lookback time.Duration
	// MaxCatchUp bounds how much one run collects after an outage; the rest follows next run.
	MaxCatchUp time.Duration
	// Span is the time covered by one paged request series (many windows, one query).
	Span time.Duration
	// EventLookback is how far back each run asks for status events.
	EventLookback time.Duration
	// DeadlineMargin: no new work starts later than the context deadline minus this margin.
	DeadlineMargin time.Duration
	// Concurrency is the number of monitors collected at the same time.
	Concurrency int
	// LeaseTTL is the lease duration; 0 derives it from the context deadline (plus margin), or
	// 10 minutes without a deadline. The lease is renewed every third of it while the run lasts.
	LeaseTTL time.Duration
	// Settle is how long a delivered window stays open to re-checking for late data (the
	// settle horizon, CALM_SETTLE): each scheduled run asks whether the windows delivered within
	// it have grown since, and delivers the points that came late (settle.go). 0 turns the
	// re-check off; at most MaxSettle.
	Settle time.Duration
	// APIQuotaBytes is the tenant's monthly fair-use quota of API data (CALM_API_QUOTA_GB;
	// 0: quota.DefaultBytes). A run warns when the month-to-date projection passes
	// quota.WarnShare of it (docs/transfer.md).
	APIQuotaBytes int64
}

// AutoMonitors selects every monitor whose confirmed scope the token grants.
const AutoMonitors = "auto"

// AllMonitors selects every monitor of the table, unconfirmed scopes included: the API's answer
// tells which ones the tenant serves.
const AllMonitors = "all"

// Resolutions maps the allowed window sizes to the metrics API's resolution parameter.
var resolutions = map[time.Duration]string{
	time.Minute:      "1Mi",
	5 * time.Minute:  "5Mi",
	10 * time.Minute: "10Mi",
	15 * time.Minute: "15Mi",
	30 * time.Minute: "30Mi",
	time.Hour:        "H",
	24 * time.Hour:   "D",
}

// DefaultConfig returns the defaults of docs/design.md §5 and docs/architecture.md.
func DefaultConfig() Config {
	return Config{
		Monitors:       []string{AutoMonitors},
		Resolution:     5 * time.Minute,
		Lag:            2 * time.Minute,
		Lookback:       time.Hour,
		MaxCatchUp:     24 * time.Hour,
		Span:           time.Hour,
		EventLookback:  24 * time.Hour,
		DeadlineMargin: 20 * time.Second,
		Concurrency:    4,
		Settle:         DefaultSettle,
	}
}

// DefaultSettle is the default settle horizon (cadence.Settle says why 30 minutes).
const DefaultSettle = cadence.Settle

// MaxSettle bounds the settle horizon: a day of windows is the most a run re-checks.
const MaxSettle = 24 * time.Hour

// Validate reports every problem of the settings at once (errors.Join), each naming the setting.
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.problems() {
		errs = append(errs, fmt.Errorf("%s: %s", p.field, p.msg))
	}
	return errors.Join(errs...)
}

// problem is one bad setting: its name in Config, its environment variable, and what is wrong.
type problem struct{ field, env, msg string }

func (c Config) problems() []problem {
	var ps []problem
	bad := func(field, env, format string, args ...any) {
		ps = append(ps, problem{field, env, fmt.Sprintf(format, args...)})
	}
	// The one rule for a monitors setting, shared with testconn and the CDK app.
	tab, err := c.MonitorTable()
	if err != nil {
		bad("extraMonitors", "CALM_EXTRA_MONITORS", "%s", err)
	}
	for _, msg := range tab.SettingProblems(c.Monitors) {
		bad("monitors", "CALM_MONITORS", "%s", msg)
	}
	_, resOK := resolutions[c.Resolution]
	if !resOK {
		bad("resolution", "CALM_RESOLUTION", "%s is not supported; use one of 1m, 5m, 10m, 15m, 30m, 1h, 24h", c.Resolution)
	}
	if c.Lag < 0 {
		bad("lag", "CALM_LAG", "%s is negative; use 0 or more (default 2m)", c.Lag)
	}
	if c.Lookback <= 0 {
		bad("lookback", "CALM_LOOKBACK", "%s must be positive (default 1h)", c.Lookback)
	}
	if c.MaxCatchUp <= 0 {
		bad("maxCatchUp", "CALM_MAX_CATCHUP", "%s must be positive (default 24h)", c.MaxCatchUp)
	} else if resOK && c.MaxCatchUp < c.Resolution {
		bad("maxCatchUp", "CALM_MAX_CATCHUP", "%s is shorter than the resolution %s", c.MaxCatchUp, c.Resolution)
	}
	if c.Span <= 0 {
		bad("span", "CALM_SPAN", "%s must be positive (default 1h)", c.Span)
	} else if resOK && c.Span%c.Resolution != 0 {
		bad("span", "CALM_SPAN", "%s is not a multiple of the resolution %s", c.Span, c.Resolution)
	}
	if c.EventLookback <= 0 {
		bad("eventLookback", "CALM_EVENT_LOOKBACK", "%s must be positive (default 24h)", c.EventLookback)
	}
	if c.DeadlineMargin < 0 {
		bad("deadlineMargin", "CALM_DEADLINE_MARGIN", "%s is negative; use 0 or more (default 20s)", c.DeadlineMargin)
	}
	if c.Concurrency < 1 || c.Concurrency > 32 {
		bad("concurrency", "CALM_CONCURRENCY", "%d is out of range; use 1 to 32 (default 4)", c.Concurrency)
	}
	if c.Settle < 0 || c.Settle > MaxSettle {
		bad("settle", "CALM_SETTLE", "%s is out of range; use 0 (no re-check for late data) up to %s (default %s)", c.Settle, MaxSettle, DefaultSettle)
	} else if resOK && c.Settle%c.Resolution != 0 {
		bad("settle", "CALM_SETTLE", "%s is not a multiple of the resolution %s", c.Settle, c.Resolution)
	}
	if c.LeaseTTL < 0 {
		bad("leaseTTL", "", "%s is negative; use 0 (derive it from the deadline) or more", c.LeaseTTL)
	}
	return ps
}

// MonitorTable is the built-in monitor table extended by Extra; an extra id that is already
// taken is an error.
func (c Config) MonitorTable() (monitor.Table, error) {
	if len(c.Extra) == 0 {
		return monitor.Builtin(), nil
	}
	return monitor.Builtin().With(c.Extra...)
}

// resolutionParam is the metrics API's name for the configured resolution.
func (c Config) resolutionParam() string { return resolutions[c.Resolution] }

// ConfigFromEnv reads the collection settings from CALM_* environment variables (docs/architecture.md, "Lambda environment"):
// CALM_MONITORS, CALM_RESOLUTION, CALM_LAG, CALM_LOOKBACK, CALM_MAX_CATCHUP, CALM_SPAN,
// CALM_EVENT_LOOKBACK, CALM_DEADLINE_MARGIN, CALM_CONCURRENCY, CALM_SETTLE, CALM_EXTRA_MONITORS
// (a JSON list of monitor definitions). Unset variables keep the defaults.
// Every problem is reported at once, each naming its variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []error
	dur := func(name string, dst *time.Duration) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration; write it like 5m, 2m30s or 1h", name, v))
			return
		}
		*dst = d
	}
	if v := strings.TrimSpace(getenv("CALM_MONITORS")); v != "" {
		c.Monitors = SplitList(v)
	}
	extra, err := monitor.Builtin().ParseDefinitions([]byte(getenv("CALM_EXTRA_MONITORS")))
	for line := range strings.Lines(errText(err)) {
		errs = append(errs, fmt.Errorf("CALM_EXTRA_MONITORS: %s", strings.TrimSuffix(line, "\n")))
	}
	c.Extra = extra
	dur("CALM_RESOLUTION", &c.Resolution)
	dur("CALM_LAG", &c.Lag)
	dur("CALM_LOOKBACK", &c.Lookback)
	dur("CALM_MAX_CATCHUP", &c.MaxCatchUp)
	dur("CALM_SPAN", &c.Span)
	dur("CALM_EVENT_LOOKBACK", &c.EventLookback)
	dur("CALM_DEADLINE_MARGIN", &c.DeadlineMargin)
	dur("CALM_SETTLE", &c.Settle)
	if v := strings.TrimSpace(getenv("CALM_CONCURRENCY")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("CALM_CONCURRENCY: %q is not a whole number", v))
		} else {
			c.Concurrency = n
		}
	}
	quotaBytes, err := quota.ParseGB(getenv(quota.Env))
	if err != nil {
		errs = append(errs, err)
	}
	c.APIQuotaBytes = quotaBytes
	for _, p := range c.problems() {
		errs = append(errs, fmt.Errorf("%s: %s", p.env, p.msg))
	}
	return c, errors.Join(errs...)
}

// SplitList splits a comma list, trimming blanks and dropping empty items and repeats.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// errText is err's message, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
