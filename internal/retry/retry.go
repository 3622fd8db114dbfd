// Package retry is the one retry loop for outbound HTTP calls (the Cloud ALM client and the OTLP
// exporter): jittered exponential backoff, a server's Retry-After honoured up to a bound, and
// never a wait that would pass the caller's deadline. What may be retried is the caller's rule;
// how long to wait and when to give up is this package's.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy is how often and how long to retry. The zero value retries nothing.
type Policy struct {
	// MaxRetries is the number of retries after the first attempt.
	MaxRetries int
	// Backoff is the first retry's wait, doubled each retry and jittered (between half and all).
	Backoff time.Duration
	// MaxBackoff caps one backoff wait (not a Retry-After).
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After waited for; a longer one ends the loop with
	// ErrRetryAfterTooLong so that the caller can schedule the call later. 0: no bound.
	MaxRetryAfter time.Duration
	// Now is the clock the deadline is compared with; time.Now when nil.
	Now func() time.Time
}

// Verdict is what a failed attempt allows.
type Verdict struct {
	// Retry is true when the failure may go away by itself (throttling, 5xx, no answer).
	Retry bool
	// After is the server's Retry-After (0: none); it replaces the backoff.
	After time.Duration
}

// Attempt is one try: nil error ends the loop; otherwise the verdict says whether to retry.
type Attempt func(ctx context.Context) (Verdict, error)

// OnRetry is told of every retry before its wait (for logs and counters): the attempt that
// failed (1-based), the wait and the error.
type OnRetry func(attempt int, wait time.Duration, err error)

// ErrRetryAfterTooLong marks a loop ended because the server asked for a longer wait than
// Policy.MaxRetryAfter.
var ErrRetryAfterTooLong = errors.New("retry after too long")

// ErrDeadline marks a loop ended because the next wait would pass the context's deadline.
var ErrDeadline = errors.New("retry past the deadline")

// Error is the last attempt's error after more than one attempt, or after a loop that stopped
// for a reason of its own (Stop: ErrDeadline, ErrRetryAfterTooLong or the context's error).
type Error struct {
	Attempts int
	Err      error // the last attempt's error
	Stop     error // nil when the error was not retryable or the retries ran out
	why      string
}

func (e *Error) Error() string {
	s := e.Err.Error()
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	if e.why != "" {
		s += "; " + e.why
	}
	return s
}

// Unwrap returns the last attempt's error and the reason the loop stopped.
func (e *Error) Unwrap() []error {
	if e.Stop == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Stop}
}

// Do runs try until it succeeds, its verdict forbids a retry, the retries run out, the next wait
// would pass ctx's deadline or ctx ends. A failure after more than one attempt, or one that
// stopped for a reason of its own, is returned as *Error; a first and only failure as it is.
func (p Policy) Do(ctx context.Context, try Attempt, onRetry OnRetry) error {
	now := p.clock()
	for attempt := 1; ; attempt++ {
		v, err := try(ctx)
		if err == nil {
			return nil
		}
		fail := func(stop error, why string) error {
			if attempt == 1 && stop == nil {
				return err
			}
			return &Error{Attempts: attempt, Err: err, Stop: stop, why: why}
		}
		if !v.Retry || attempt > p.MaxRetries {
			return fail(nil, "")
		}
		if ctx.Err() != nil {
			return fail(ctx.Err(), "not retrying: "+ctx.Err().Error())
		}
		wait := p.backoff(attempt)
		if v.After > 0 {
			wait = v.After
			if p.MaxRetryAfter > 0 && wait > p.MaxRetryAfter {
				return fail(ErrRetryAfterTooLong, fmt.Sprintf(
					"not retrying: the server asks to retry after %s, longer than %s", wait, p.MaxRetryAfter))
			}
		}
		if dl, ok := ctx.Deadline(); ok && now().Add(wait).After(dl) {
			return fail(ErrDeadline, fmt.Sprintf(
				"not retrying: waiting %s would pass the deadline", wait.Round(time.Millisecond)))
		}
		if onRetry != nil {
			onRetry(attempt, wait, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fail(ctx.Err(), "gave up waiting to retry: "+ctx.Err().Error())
		case <-t.C:
		}
	}
}

// backoff is the jittered exponential wait before retry n (n >= 1): between half and all of
// Backoff·2^(n−1), at most MaxBackoff.
func (p Policy) backoff(n int) time.Duration {
	d := p.Backoff << min(n-1, 20)
	if p.MaxBackoff > 0 && (d <= 0 || d > p.MaxBackoff) {
		d = p.MaxBackoff
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1) //nolint:gosec // G404: jitter needs no cryptographic randomness
}

// clock is the policy's clock: Now, or time.Now when nil.
func (p Policy) clock() func() time.Time {
	if p.Now == nil {
		return time.Now
	}
	return p.Now
}

// RetryAfter reads a Retry-After header as ParseRetryAfter does, an HTTP date against the
// policy's clock: the one its deadline is compared with.
func (p Policy) RetryAfter(v string) time.Duration { return ParseRetryAfter(v, p.clock()()) }

// ParseRetryAfter reads a Retry-After header: whole seconds or an HTTP date; 0 when absent,
// negative, in the past or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, 7*24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
