package collect

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestConfigValidateNamesEveryProblem(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no monitors", func(c *Config) { c.Monitors = nil },
			`monitors: empty; use "auto", "all" or a comma list of monitor ids (` + strings.Join(MonitorIDs(), ",") + ")"},
		{"auto with ids", func(c *Config) { c.Monitors = []string{"auto", "hm"} },
			`monitors: "auto" cannot be combined with monitor ids`},
		{"all with ids", func(c *Config) { c.Monitors = []string{"hm", "all"} },
			`monitors: "all" cannot be combined with monitor ids`},
		{"unknown monitor", func(c *Config) { c.Monitors = []string{"hm", "xyz"} },
			`monitors: unknown monitor "xyz"; known: ` + strings.Join(MonitorIDs(), ",")},
		{"resolution", func(c *Config) { c.Resolution = 7 * time.Minute },
			"resolution: 7m0s is not supported; use one of 1m, 5m, 10m, 15m, 30m, 1h, 24h"},
		{"lag", func(c *Config) { c.Lag = -time.Second }, "lag: -1s is negative; use 0 or more (default 2m)"},
		{"lookback", func(c *Config) { c.Lookback = 0 }, "lookback: 0s must be positive (default 1h)"},
		{"catch-up", func(c *Config) { c.MaxCatchUp = 0 }, "maxCatchUp: 0s must be positive (default 24h)"},
		{"catch-up short", func(c *Config) { c.MaxCatchUp = time.Minute }, "maxCatchUp: 1m0s is shorter than the resolution 5m0s"},
		{"span", func(c *Config) { c.Span = 0 }, "span: 0s must be positive (default 1h)"},
		{"span multiple", func(c *Config) { c.Span = 7 * time.Minute }, "span: 7m0s is not a multiple of the resolution 5m0s"},
		{"event lookback", func(c *Config) { c.EventLookback = -time.Hour }, "eventLookback: -1h0m0s must be positive (default 24h)"},
		{"margin", func(c *Config) { c.DeadlineMargin = -time.Second }, "deadlineMargin: -1s is negative; use 0 or more (default 20s)"},
		{"concurrency", func(c *Config) { c.Concurrency = 0 }, "concurrency: 0 is out of range; use 1 to 32 (default 4)"},
		{"lease", func(c *Config) { c.LeaseTTL = -time.Second }, "leaseTTL: -1s is negative; use 0 (derive it from the deadline) or more"},
		{"settle long", func(c *Config) { c.Settle = 25 * time.Hour }, "settle: 25h0m0s is out of range; use 0 (no re-check for late data) up to 24h0m0s (default 30m0s)"},
		{"settle negative", func(c *Config) { c.Settle = -time.Minute }, "settle: -1m0s is out of range; use 0 (no re-check for late data) up to 24h0m0s (default 30m0s)"},
		{"settle multiple", func(c *Config) { c.Settle = 7 * time.Minute }, "settle: 7m0s is not a multiple of the resolution 5m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			err := c.Validate()
			if err == nil || err.Error() != tt.want {
				t.Errorf("Validate() = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestConfigValidateJoinsProblems(t *testing.T) {
	c := DefaultConfig()
	c.Lag, c.Concurrency = -time.Second, 99
	want := "lag: -1s is negative; use 0 or more (default 2m)\nconcurrency: 99 is out of range; use 1 to 32 (default 4)"
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	c, err := ConfigFromEnv(envOf(map[string]string{
		"CALM_MONITORS": " hm, jam ,hm,", "CALM_RESOLUTION": "1m", "CALM_LAG": "30s", "CALM_LOOKBACK": "2h",
		"CALM_MAX_CATCHUP": "6h", "CALM_SPAN": "30m", "CALM_EVENT_LOOKBACK": "12h", "CALM_DEADLINE_MARGIN": "5s",
		"CALM_CONCURRENCY": "2", "CALM_SETTLE": "2h",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Monitors: []string{"hm", "jam"}, Resolution: time.Minute, Lag: 30 * time.Second, Lookback: 2 * time.Hour,
		MaxCatchUp: 6 * time.Hour, Span: 30 * time.Minute, EventLookback: 12 * time.Hour, DeadlineMargin: 5 * time.Second, Concurrency: 2,
		Settle: 2 * time.Hour}
	if !equalConfig(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	d, err := ConfigFromEnv(envOf(nil))
	if err != nil || !equalConfig(d, DefaultConfig()) {
		t.Errorf("empty env = %+v, %v; want the defaults", d, err)
	}
}

func TestConfigFromEnvNamesEveryVariable(t *testing.T) {
	_, err := ConfigFromEnv(envOf(map[string]string{
		"CALM_RESOLUTION": "5 minutes", "CALM_LAG": "-1m", "CALM_MONITORS": "hm,nope", "CALM_CONCURRENCY": "four",
	}))
	want := `CALM_RESOLUTION: "5 minutes" is not a duration; write it like 5m, 2m30s or 1h` + "\n" +
		`CALM_CONCURRENCY: "four" is not a whole number` + "\n" +
		`CALM_MONITORS: unknown monitor "nope"; known: ` + strings.Join(MonitorIDs(), ",") + "\n" +
		"CALM_LAG: -1m0s is negative; use 0 or more (default 2m)"
	if err == nil || err.Error() != want {
		t.Errorf("ConfigFromEnv error = %v\nwant %s", err, want)
	}
}

func equalConfig(a, b Config) bool {
	return strings.Join(a.Monitors, ",") == strings.Join(b.Monitors, ",") && a.Resolution == b.Resolution &&
		a.Lag == b.Lag && a.Lookback == b.Lookback && a.MaxCatchUp == b.MaxCatchUp && a.Span == b.Span &&
		a.EventLookback == b.EventLookback && a.DeadlineMargin == b.DeadlineMargin && a.Concurrency == b.Concurrency &&
		a.LeaseTTL == b.LeaseTTL && a.Settle == b.Settle
}
