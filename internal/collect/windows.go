package collect

import "time"

// Range is a half-open time range [From, To), in UTC.
type Range struct{ From, To time.Time }

// Empty reports whether the range holds no time.
func (r Range) Empty() bool { return !r.From.Before(r.To) }

// floor aligns t down to the resolution on the UTC clock (zero time is a UTC midnight, so every
// allowed resolution divides a day evenly; UTC has no DST).
func floor(t time.Time, res time.Duration) time.Time { return t.UTC().Truncate(res) }

// ceil aligns t up to the resolution.
func ceil(t time.Time, res time.Duration) time.Time {
	f := floor(t, res)
	if f.Equal(t) {
		return f
	}
	return f.Add(res)
}

// Plan is what one scheduled run collects for one monitor.
type Plan struct {
	Range
	// Limited is true when MaxCatchUp cut the range short; the rest follows next run.
	Limited bool
	// End is the end of everything that is due (floor(now−lag)); Range.To <= End.
	End time.Time
}

// planScheduled computes the range a scheduled run collects for a monitor whose checkpoint says
// next (ok=false: no checkpoint yet, first run looks back Lookback from the end).
func planScheduled(next time.Time, ok bool, now time.Time, c Config) Plan {
	end := floor(now.Add(-c.Lag), c.Resolution)
	from := end.Add(-c.Lookback)
	from = floor(from, c.Resolution)
	if ok {
		// A checkpoint written under another resolution may be unaligned: go back to the window
		// holding it, re-delivering a part (same ids) rather than skipping one.
		from = floor(next, c.Resolution)
	}
	p := Plan{Range: Range{From: from, To: end}, End: end}
	if p.Empty() {
		p.To = p.From
		return p
	}
	if limit := from.Add(c.MaxCatchUp); limit.Before(end) {
		p.To = floor(limit, c.Resolution)
		if !p.To.After(p.From) {
			p.To = p.From.Add(c.Resolution)
		}
		p.Limited = true
	}
	return p
}

// planBackfill aligns a backfill range outwards to whole windows.
func planBackfill(r Range, res time.Duration) Range {
	return Range{From: floor(r.From, res), To: ceil(r.To.UTC(), res)}
}

// split cuts r into consecutive pieces of at most size (the last one may be shorter).
func split(r Range, size time.Duration) []Range {
	var out []Range
	for from := r.From; from.Before(r.To); from = from.Add(size) {
		to := from.Add(size)
		if to.After(r.To) {
			to = r.To
		}
		out = append(out, Range{From: from, To: to})
	}
	return out
}
