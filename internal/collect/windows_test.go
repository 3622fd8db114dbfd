package collect

import (
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestPlanScheduled(t *testing.T) {
	base := DefaultConfig()
	tests := []struct {
		name    string
		next    string // "" = no checkpoint
		now     string
		change  func(*Config)
		from    string
		to      string
		limited bool
	}{
		{"first run looks back 1h", "", "2026-11-25T10:07:30Z", nil, "2026-11-25T09:05:00Z", "2026-11-25T10:05:00Z", false},
		{"lag keeps the newest window out", "", "2026-11-25T10:06:59Z", nil, "2026-11-25T09:00:00Z", "2026-11-25T10:00:00Z", false},
		{"lag exactly on the boundary", "", "2026-11-25T10:07:00Z", nil, "2026-11-25T09:05:00Z", "2026-11-25T10:05:00Z", false},
		{"steady state: one window", "2026-11-25T10:00:00Z", "2026-11-25T10:07:00Z", nil, "2026-11-25T10:00:00Z", "2026-11-25T10:05:00Z", false},
		{"nothing due yet", "2026-11-25T10:05:00Z", "2026-11-25T10:08:00Z", nil, "2026-11-25T10:05:00Z", "2026-11-25T10:05:00Z", false},
		{"checkpoint ahead of now (clock skew)", "2026-11-25T11:00:00Z", "2026-11-25T10:08:00Z", nil, "2026-11-25T11:00:00Z", "2026-11-25T11:00:00Z", false},
		{"catch-up bounded to 24h", "2026-11-20T00:00:00Z", "2026-11-25T10:07:00Z", nil, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", true},
		{"catch-up just within the bound", "2026-11-24T10:05:00Z", "2026-11-25T10:07:00Z", nil, "2026-11-24T10:05:00Z", "2026-11-25T10:05:00Z", false},
		{"unaligned checkpoint goes back to its window", "2026-11-25T10:02:00Z", "2026-11-25T10:17:00Z", nil, "2026-11-25T10:00:00Z", "2026-11-25T10:15:00Z", false},
		{"hourly resolution across midnight UTC", "", "2026-03-29T00:30:00Z", func(c *Config) { c.Resolution = time.Hour; c.Lookback = 3 * time.Hour },
			"2026-03-28T21:00:00Z", "2026-03-29T00:00:00Z", false},
		{"daily resolution aligns to UTC midnight (no DST)", "", "2026-10-25T03:00:00Z", func(c *Config) {
			c.Resolution, c.Lookback, c.Span, c.MaxCatchUp = 24*time.Hour, 48*time.Hour, 24*time.Hour, 72*time.Hour
		}, "2026-10-23T00:00:00Z", "2026-10-25T00:00:00Z", false},
		{"zero lag", "", "2026-11-25T10:05:00Z", func(c *Config) { c.Lag = 0; c.Lookback = 10 * time.Minute },
			"2026-11-25T09:55:00Z", "2026-11-25T10:05:00Z", false},
		{"unaligned lookback is aligned down", "", "2026-11-25T10:07:00Z", func(c *Config) { c.Lookback = 7 * time.Minute },
			"2026-11-25T09:55:00Z", "2026-11-25T10:05:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			if tt.change != nil {
				tt.change(&c)
			}
			next, ok := time.Time{}, tt.next != ""
			if ok {
				next = ts(tt.next)
			}
			p := planScheduled(next, ok, ts(tt.now), c)
			if !p.From.Equal(ts(tt.from)) || !p.To.Equal(ts(tt.to)) || p.Limited != tt.limited {
				t.Errorf("plan = [%s, %s) limited=%v; want [%s, %s) limited=%v", p.From, p.To, p.Limited, tt.from, tt.to, tt.limited)
			}
		})
	}
}

func TestSplitAndBackfillAlignment(t *testing.T) {
	r := planBackfill(Range{From: ts("2026-11-25T10:03:00Z"), To: ts("2026-11-25T12:01:00Z")}, 5*time.Minute)
	if !r.From.Equal(ts("2026-11-25T10:00:00Z")) || !r.To.Equal(ts("2026-11-25T12:05:00Z")) {
		t.Fatalf("backfill range = %v", r)
	}
	spans := split(r, time.Hour)
	want := []string{"2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z", "2026-11-25T12:00:00Z", "2026-11-25T12:05:00Z"}
	if len(spans) != 3 {
		t.Fatalf("spans = %v", spans)
	}
	for i, s := range spans {
		if !s.From.Equal(ts(want[i])) || !s.To.Equal(ts(want[i+1])) {
			t.Errorf("span %d = %v, want [%s, %s)", i, s, want[i], want[i+1])
		}
	}
	if n := len(split(spans[0], 5*time.Minute)); n != 12 {
		t.Errorf("an hour holds %d windows of 5m, want 12", n)
	}
	if got := split(Range{From: r.From, To: r.From}, time.Hour); len(got) != 0 {
		t.Errorf("an empty range splits into %v", got)
	}
}
