package collect

import (
	"strings"
	"testing"
	"time"
)

// FuzzConfigFromEnv: any environment either gives a config that validates, or errors that
// each name their CALM_ variable; never a panic.
func FuzzConfigFromEnv(f *testing.F) {
	f.Add("auto", "5m", "2m", "1h", "24h", "1h", "24h", "20s", "4")
	f.Add("hm, jam,,hm", "1m", "0s", "3h", "1m", "15m", "1h", "0", "32")
	f.Add("auto,hm", "7m", "-1s", "0", "30s", "7m", "x", "-5s", "0x10")
	f.Add("", "", "", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, monitors, res, lag, lookback, catchup, span, events, margin, conc string) {
		env := map[string]string{
			"CALM_MONITORS": monitors, "CALM_RESOLUTION": res, "CALM_LAG": lag, "CALM_LOOKBACK": lookback,
			"CALM_MAX_CATCHUP": catchup, "CALM_SPAN": span, "CALM_EVENT_LOOKBACK": events,
			"CALM_DEADLINE_MARGIN": margin, "CALM_CONCURRENCY": conc,
		}
		c, err := ConfigFromEnv(func(k string) string { return env[k] })
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("ConfigFromEnv accepted a config that Validate refuses: %v", verr)
			}
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "CALM_") {
				t.Fatalf("error line does not name its variable: %q", line)
			}
		}
	})
}

// FuzzPlanScheduled: whatever the checkpoint, clock and settings, a scheduled plan is aligned
// to the resolution, starts at the window holding the checkpoint (never later: nothing is
// skipped), ends no later than floor(now−lag) and covers at most MaxCatchUp (or one window).
func FuzzPlanScheduled(f *testing.F) {
	f.Add(int64(1795687200), true, int64(1795690020), int64(300), int64(120), int64(3600), int64(86400))
	f.Add(int64(0), false, int64(1795690020), int64(60), int64(0), int64(60), int64(60))
	f.Add(int64(1795690020), true, int64(1795687200), int64(86400), int64(1), int64(7), int64(1))
	f.Fuzz(func(t *testing.T, nextS int64, ok bool, nowS, resS, lagS, lookbackS, catchupS int64) {
		reses := []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 24 * time.Hour}
		c := DefaultConfig()
		c.Resolution = reses[uint64(resS)%uint64(len(reses))]
		c.Lag = time.Duration(uint64(lagS)%(7*86400)) * time.Second
		c.Lookback = time.Duration(1+uint64(lookbackS)%(30*86400)) * time.Second
		c.MaxCatchUp = time.Duration(1+uint64(catchupS)%(30*86400))*time.Second + c.Resolution
		const span = 100 * 365 * 86400 // keep times within a century of 2000
		base := int64(946684800)
		next := time.Unix(base+int64(uint64(nextS)%span), 0).UTC()
		now := time.Unix(base+int64(uint64(nowS)%span), 0).UTC()
		p := planScheduled(next, ok, now, c)
		end := floor(now.Add(-c.Lag), c.Resolution)
		switch {
		case !p.From.Equal(floor(p.From, c.Resolution)) || !p.To.Equal(floor(p.To, c.Resolution)):
			t.Fatalf("plan %v not aligned to %s", p, c.Resolution)
		case !p.End.Equal(end):
			t.Fatalf("plan end %s, want floor(now-lag) %s", p.End, end)
		case ok && !p.From.Equal(floor(next, c.Resolution)):
			t.Fatalf("plan starts at %s, checkpoint %s: a window would be skipped or repeated", p.From, next)
		case p.Empty():
			if p.From.Before(end) {
				t.Fatalf("empty plan %v although %s is due", p, end)
			}
		case p.To.After(end):
			t.Fatalf("plan %v goes past floor(now-lag) %s", p, end)
		case p.To.Sub(p.From) > max(c.MaxCatchUp, c.Resolution):
			t.Fatalf("plan %v covers more than MaxCatchUp %s", p, c.MaxCatchUp)
		case p.Limited != p.To.Before(end):
			t.Fatalf("plan %v: Limited %v, but To %s vs end %s", p, p.Limited, p.To, end)
		}
	})
}
