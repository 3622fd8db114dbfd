package retry

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

var errBusy = errors.New("HTTP 503")

// attempts returns an Attempt that fails with verdict v for the first n calls and then succeeds,
// and the counter of calls.
func attempts(n int, v Verdict) (Attempt, *int) {
	calls := 0
	return func(context.Context) (Verdict, error) {
		calls++
		if calls <= n {
			return v, errBusy
		}
		return Verdict{}, nil
	}, &calls
}

func tiny(retries int) Policy {
	return Policy{MaxRetries: retries, Backoff: time.Microsecond, MaxBackoff: time.Millisecond}
}

func TestDoRetriesUntilSuccess(t *testing.T) {
	try, calls := attempts(2, Verdict{Retry: true})
	var told []int
	err := tiny(3).Do(context.Background(), try, func(n int, _ time.Duration, err error) {
		if !errors.Is(err, errBusy) {
			t.Errorf("OnRetry got %v, want the attempt's error", err)
		}
		told = append(told, n)
	})
	if err != nil || *calls != 3 {
		t.Fatalf("err %v after %d calls, want success on the 3rd", err, *calls)
	}
	if len(told) != 2 || told[0] != 1 || told[1] != 2 {
		t.Errorf("OnRetry attempts %v, want [1 2]", told)
	}
}

func TestDoGivesUpAfterMaxRetries(t *testing.T) {
	try, calls := attempts(100, Verdict{Retry: true})
	err := tiny(2).Do(context.Background(), try, nil)
	var re *Error
	if !errors.As(err, &re) || re.Attempts != 3 || *calls != 3 || !errors.Is(err, errBusy) {
		t.Fatalf("err %v after %d calls, want *Error wrapping the 503 after 3 attempts", err, *calls)
	}
	if err.Error() != "HTTP 503 (after 3 attempts)" {
		t.Errorf("err = %q", err)
	}
}

func TestDoReturnsAFirstFinalErrorAsItIs(t *testing.T) {
	try, calls := attempts(100, Verdict{Retry: false})
	if err := tiny(5).Do(context.Background(), try, nil); err != errBusy || *calls != 1 {
		t.Fatalf("err %v after %d calls, want the bare error after one call", err, *calls)
	}
}

func TestDoRetryAfterBeyondBoundStops(t *testing.T) {
	p := tiny(5)
	p.MaxRetryAfter = 15 * time.Minute
	try, calls := attempts(100, Verdict{Retry: true, After: time.Hour})
	err := p.Do(context.Background(), try, nil)
	if !errors.Is(err, ErrRetryAfterTooLong) || *calls != 1 {
		t.Fatalf("err %v after %d calls, want ErrRetryAfterTooLong after one call", err, *calls)
	}
	if want := "HTTP 503; not retrying: the server asks to retry after 1h0m0s, longer than 15m0s"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

// TestDoNeverWaitsPastTheDeadline: the deadline is an hour away, the server asks for two hours.
func TestDoNeverWaitsPastTheDeadline(t *testing.T) {
	p := tiny(5)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	try, calls := attempts(100, Verdict{Retry: true, After: 2 * time.Hour})
	err := p.Do(ctx, try, nil)
	if !errors.Is(err, ErrDeadline) || *calls != 1 || !strings.Contains(err.Error(), "waiting 2h0m0s would pass the deadline") {
		t.Fatalf("err %v after %d calls, want ErrDeadline after one call", err, *calls)
	}
}

func TestDoStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := Policy{MaxRetries: 5, Backoff: time.Hour, MaxBackoff: time.Hour}
	try := func(context.Context) (Verdict, error) { return Verdict{Retry: true}, errBusy }
	err := p.Do(ctx, try, func(int, time.Duration, error) { cancel() })
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errBusy) {
		t.Fatalf("err = %v, want both the cancellation and the last error", err)
	}
}

func TestBackoffGrowsAndIsBounded(t *testing.T) {
	p := Policy{Backoff: 100 * time.Millisecond, MaxBackoff: 30 * time.Second}
	for n, bounds := range map[int][2]time.Duration{
		1: {50 * time.Millisecond, 100 * time.Millisecond}, 3: {200 * time.Millisecond, 400 * time.Millisecond},
		30: {15 * time.Second, 30 * time.Second},
	} {
		for range 50 {
			if d := p.backoff(n); d < bounds[0] || d > bounds[1] {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, d, bounds[0], bounds[1])
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, " 120 ": 2 * time.Minute, "0": 0, "-1": 0, "soon": 0,
		"Wed, 25 Nov 2026 10:00:30 GMT": 30 * time.Second, "Wed, 25 Nov 2026 09:00:00 GMT": 0,
		"99999999999999": 7 * 24 * time.Hour,
	} {
		if got := ParseRetryAfter(v, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

// A Retry-After date is read against the policy's clock, the one its deadline is compared with,
// not the wall clock: the suite passes on any date.
func TestPolicyReadsRetryAfterOnItsClock(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	p := Policy{Now: func() time.Time { return at }}
	if got := p.RetryAfter(at.Add(90 * time.Second).Format(http.TimeFormat)); got != 90*time.Second {
		t.Errorf("RetryAfter(90 s after the policy's now) = %v, want 1m30s", got)
	}
	if got := p.RetryAfter("7"); got != 7*time.Second {
		t.Errorf("RetryAfter(7) = %v, want 7s", got)
	}
}
