package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/testkit"
)

// newClock is the stores' clock, at a fixed time the test moves.
func newClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
}

// storeFactory returns a fresh, empty store reading time from c.
type storeFactory func(t *testing.T, c *testkit.Clock) Store

// testConformance runs the behaviour every Store must have.
func testConformance(t *testing.T, open storeFactory) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

	t.Run("GetPutList", func(t *testing.T) {
		s := open(t, newClock())
		if _, ok, err := s.Get(ctx, "t1", "hm"); err != nil || ok {
			t.Fatalf("Get on empty store = ok %v, err %v; want not found", ok, err)
		}
		if cps, err := s.List(ctx, "t1"); err != nil || len(cps) != 0 {
			t.Fatalf("List on empty store = %v, %v; want none", cps, err)
		}
		want := Checkpoint{
			Tenant: "t1", Monitor: "hm", Host: "https://t1.eu10.alm.cloud.sap", Next: t0.Add(5 * time.Minute),
			UpdatedAt: t0.Add(time.Minute), LastRunAt: t0, LastSuccess: t0,
			LastError: "", LastPoints: 42, LastWindows: 3, Cap: 100, Delay: 7*time.Minute + 30*time.Second,
		}
		failed := Checkpoint{Tenant: "t1", Monitor: "exm", Next: t0, LastRunAt: t0, LastError: "HTTP 403: missing scope calm-api.exm.read"}
		other := Checkpoint{Tenant: "t2", Monitor: "hm", Next: t0}
		for _, cp := range []Checkpoint{want, failed, other} {
			if err := s.Put(ctx, cp); err != nil {
				t.Fatalf("Put %s/%s: %v", cp.Tenant, cp.Monitor, err)
			}
		}
		got, ok, err := s.Get(ctx, "t1", "hm")
		if err != nil || !ok {
			t.Fatalf("Get = ok %v, err %v", ok, err)
		}
		assertCheckpoint(t, got, want)

		cps, err := s.List(ctx, "t1")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(cps) != 2 || cps[0].Monitor != "exm" || cps[1].Monitor != "hm" {
			t.Fatalf("List(t1) = %+v, want exm and hm in that order", cps)
		}
		if cps[0].LastError != failed.LastError {
			t.Errorf("LastError = %q, want %q", cps[0].LastError, failed.LastError)
		}
		if cps[0].UpdatedAt.IsZero() {
			t.Errorf("Put left UpdatedAt zero; want the store's clock")
		}
	})

	t.Run("NeverBackwards", func(t *testing.T) {
		s := open(t, newClock())
		put := func(next time.Time) error {
			return s.Put(ctx, Checkpoint{Tenant: "t1", Monitor: "hm", Next: next, LastPoints: int(next.Unix() % 1000)})
		}
		if err := put(t0.Add(10 * time.Minute)); err != nil {
			t.Fatal(err)
		}
		err := put(t0.Add(5 * time.Minute))
		if !errors.Is(err, ErrStale) {
			t.Fatalf("Put with an earlier Next = %v, want ErrStale", err)
		}
		if !strings.Contains(err.Error(), "t1/hm") {
			t.Errorf("error %q does not name the checkpoint t1/hm", err)
		}
		got, _, _ := s.Get(ctx, "t1", "hm")
		if !got.Next.Equal(t0.Add(10 * time.Minute)) {
			t.Errorf("after a stale Put, Next = %s, want it unchanged", got.Next)
		}
		if err := put(t0.Add(10 * time.Minute)); err != nil {
			t.Errorf("Put with the same Next = %v, want it accepted", err)
		}
		if err := put(t0.Add(15 * time.Minute)); err != nil {
			t.Errorf("Put with a later Next = %v", err)
		}
	})

	t.Run("LeaseHeld", func(t *testing.T) {
		c := newClock()
		s := open(t, c)
		l, err := s.Acquire(ctx, "t1", "run-a", 5*time.Minute)
		if err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		if l.Owner != "run-a" || l.Tenant != "t1" || !l.Expires.Equal(c.Now().Add(5*time.Minute)) {
			t.Errorf("lease = %+v, want owner run-a on t1 until now+5m", l)
		}
		c.Advance(4 * time.Minute)
		_, err = s.Acquire(ctx, "t1", "run-b", 5*time.Minute)
		var held *HeldError
		if !errors.As(err, &held) {
			t.Fatalf("second Acquire = %v, want *HeldError", err)
		}
		if held.Owner != "run-a" || held.Tenant != "t1" || !held.Expires.Equal(l.Expires) {
			t.Errorf("HeldError = %+v, want owner run-a until %s", held, l.Expires)
		}
		want := `tenant "t1" is being collected by run-a until 2026-11-25T10:05:00Z; try again after it`
		if held.Error() != want {
			t.Errorf("message = %q\nwant      %q", held.Error(), want)
		}
		if _, err := s.Acquire(ctx, "t2", "run-b", 5*time.Minute); err != nil {
			t.Errorf("Acquire of another tenant = %v, want it free", err)
		}
		again, err := s.Acquire(ctx, "t1", "run-a", 5*time.Minute)
		if err != nil || !again.Expires.After(l.Expires) {
			t.Errorf("re-Acquire by the holder = %+v, %v; want an extended lease", again, err)
		}
	})

	t.Run("LeaseExpiryTakeover", func(t *testing.T) {
		c := newClock()
		s := open(t, c)
		a, err := s.Acquire(ctx, "t1", "run-a", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Minute) // exactly at expiry: still held
		if _, err := s.Acquire(ctx, "t1", "run-b", time.Minute); err == nil {
			t.Fatalf("Acquire at the expiry instant succeeded; want the lease still held")
		}
		c.Advance(time.Millisecond)
		b, err := s.Acquire(ctx, "t1", "run-b", time.Minute)
		if err != nil {
			t.Fatalf("Acquire after expiry = %v, want a takeover", err)
		}
		if b.Owner != "run-b" {
			t.Errorf("owner = %q, want run-b", b.Owner)
		}
		// The old holder has lost it: renew says who has it now, release leaves it alone.
		var held *HeldError
		if _, err := s.Renew(ctx, a, time.Minute); !errors.As(err, &held) || held.Owner != "run-b" {
			t.Errorf("Renew by the old holder = %v, want *HeldError naming run-b", err)
		}
		if err := s.Release(ctx, a); !errors.Is(err, ErrNotHeld) {
			t.Errorf("Release by the old holder = %v, want ErrNotHeld", err)
		}
		if _, err := s.Acquire(ctx, "t1", "run-c", time.Minute); !errors.As(err, &held) || held.Owner != "run-b" {
			t.Errorf("after the old holder's release, Acquire = %v, want still held by run-b", err)
		}
	})

	t.Run("Renew", func(t *testing.T) {
		c := newClock()
		s := open(t, c)
		l, err := s.Acquire(ctx, "t1", "run-a", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(50 * time.Second)
		r, err := s.Renew(ctx, l, time.Minute)
		if err != nil {
			t.Fatalf("Renew: %v", err)
		}
		if !r.Expires.Equal(c.Now().Add(time.Minute)) || r.Owner != "run-a" {
			t.Errorf("renewed lease = %+v, want run-a until now+1m", r)
		}
		c.Advance(50 * time.Second) // past the first expiry, within the renewed one
		var held *HeldError
		if _, err := s.Acquire(ctx, "t1", "run-b", time.Minute); !errors.As(err, &held) {
			t.Errorf("Acquire within the renewed lease = %v, want *HeldError", err)
		}
		if err := s.Release(ctx, r); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if _, err := s.Renew(ctx, r, time.Minute); !errors.Is(err, ErrNotHeld) {
			t.Errorf("Renew after Release = %v, want ErrNotHeld", err)
		}
	})

	t.Run("ReleaseOnlyOwn", func(t *testing.T) {
		c := newClock()
		s := open(t, c)
		l, err := s.Acquire(ctx, "t1", "run-a", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		impostor := Lease{Tenant: "t1", Owner: "run-b", Expires: l.Expires}
		if err := s.Release(ctx, impostor); !errors.Is(err, ErrNotHeld) {
			t.Errorf("Release by another owner = %v, want ErrNotHeld", err)
		}
		var held *HeldError
		if _, err := s.Acquire(ctx, "t1", "run-b", time.Minute); !errors.As(err, &held) {
			t.Errorf("lease gone after a foreign Release: Acquire = %v", err)
		}
		if err := s.Release(ctx, l); err != nil {
			t.Fatalf("Release by the owner: %v", err)
		}
		if _, err := s.Acquire(ctx, "t1", "run-b", time.Minute); err != nil {
			t.Errorf("Acquire after Release = %v, want free", err)
		}
		if err := s.Release(ctx, l); !errors.Is(err, ErrNotHeld) {
			t.Errorf("second Release = %v, want ErrNotHeld", err)
		}
	})

	t.Run("Marks", func(t *testing.T) {
		c := newClock()
		s := open(t, c)
		if m, err := s.Marks(ctx, "t1", "bsm", c.Now()); err != nil || len(m) != 0 {
			t.Fatalf("Marks on empty store = %v, %v", m, err)
		}
		now := c.Now()
		if err := s.PutMarks(ctx, "t1", "bsm", c.Now(), map[string]Mark{
			"ev-1": {Hash: "h1", Expires: now.Add(time.Hour)},
			"ev-2": {Hash: "h2", Expires: now.Add(2 * time.Hour)},
		}); err != nil {
			t.Fatalf("PutMarks: %v", err)
		}
		if err := s.PutMarks(ctx, "t1", "other", c.Now(), map[string]Mark{"ev-9": {Hash: "x", Expires: now.Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		// Upsert: ev-2 changes, ev-3 is new, ev-1 stays.
		if err := s.PutMarks(ctx, "t1", "bsm", c.Now(), map[string]Mark{
			"ev-2": {Hash: "h2b", Expires: now.Add(2 * time.Hour)},
			"ev-3": {Hash: "h3", Expires: now.Add(3 * time.Hour), Open: now.Add(-50 * time.Hour)},
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Marks(ctx, "t1", "bsm", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		assertMarks(t, got, map[string]Mark{
			"ev-1": {Hash: "h1", Expires: now.Add(time.Hour)},
			"ev-2": {Hash: "h2b", Expires: now.Add(2 * time.Hour)},
			"ev-3": {Hash: "h3", Expires: now.Add(3 * time.Hour), Open: now.Add(-50 * time.Hour)},
		})
		c.Advance(90 * time.Minute)
		got, err = s.Marks(ctx, "t1", "bsm", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		assertMarks(t, got, map[string]Mark{
			"ev-2": {Hash: "h2b", Expires: now.Add(2 * time.Hour)},
			"ev-3": {Hash: "h3", Expires: now.Add(3 * time.Hour), Open: now.Add(-50 * time.Hour)},
		})
	})

	t.Run("ManyMarks", func(t *testing.T) { // more than one DynamoDB batch
		c := newClock()
		s := open(t, c)
		want := map[string]Mark{}
		for i := range 60 {
			want[fmt.Sprintf("ev-%03d", i)] = Mark{Hash: fmt.Sprint(i), Expires: c.Now().Add(time.Hour)}
		}
		if err := s.PutMarks(ctx, "t1", "bsm", c.Now(), want); err != nil {
			t.Fatal(err)
		}
		got, err := s.Marks(ctx, "t1", "bsm", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		assertMarks(t, got, want)
	})

	t.Run("Formats", func(t *testing.T) {
		c := newClock()
		s := open(t, c)
		if f, ok, err := s.Formats(ctx, "t1"); err != nil || ok {
			t.Fatalf("Formats on empty store = %+v ok %v, err %v; want not found", f, ok, err)
		}
		refused := Formats{Tenant: "t1", BinaryRefusedAt: t0.Add(1500 * time.Millisecond)}
		if err := s.PutFormats(ctx, refused); err != nil {
			t.Fatal(err)
		}
		shape := Formats{Tenant: "t2", Stamping: "end", FromTo: "ignored", FromToAt: t0.Add(time.Minute), ServiceList: "repeat", ServiceListAt: t0.Add(2 * time.Minute)}
		if err := s.PutFormats(ctx, shape); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Formats(ctx, "t2"); err != nil || !ok || got.Stamping != "end" || got.FromTo != "ignored" || !got.FromToAt.Equal(shape.FromToAt) ||
			got.ServiceList != "repeat" || !got.ServiceListAt.Equal(shape.ServiceListAt) {
			t.Fatalf("Formats(t2) = %+v ok %v err %v, want %+v", got, ok, err, shape)
		}
		if err := s.PutFormats(ctx, Formats{Tenant: "t2"}); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Formats(ctx, "t1")
		refused.UpdatedAt = c.Now()
		if err != nil || !ok || !got.BinaryRefusedAt.Equal(refused.BinaryRefusedAt) || !got.UpdatedAt.Equal(refused.UpdatedAt) || got.Tenant != "t1" {
			t.Fatalf("Formats(t1) = %+v ok %v err %v, want %+v", got, ok, err, refused)
		}
		// Replaced, not merged: binary served again clears the refusal.
		c.Advance(time.Hour)
		if err := s.PutFormats(ctx, Formats{Tenant: "t1"}); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Formats(ctx, "t1"); err != nil || !ok || !got.BinaryRefusedAt.IsZero() || !got.UpdatedAt.Equal(c.Now()) {
			t.Fatalf("Formats(t1) after clearing = %+v ok %v err %v", got, ok, err)
		}
		if got, ok, err := s.Formats(ctx, "t2"); err != nil || !ok || !got.BinaryRefusedAt.IsZero() || got.Stamping != "" || got.ServiceList != "" ||
			got.FromTo != "" || !got.FromToAt.IsZero() || !got.ServiceListAt.IsZero() {
			t.Fatalf("Formats(t2) = %+v ok %v err %v", got, ok, err)
		}
		if cps, err := s.List(ctx, "t1"); err != nil || len(cps) != 0 {
			t.Fatalf("List after PutFormats = %v, %v; want no checkpoints", cps, err)
		}
		err = s.PutFormats(ctx, Formats{Tenant: ""})
		if err == nil || !strings.Contains(err.Error(), "tenant") {
			t.Errorf("PutFormats without a tenant: %v, want an error naming the tenant", err)
		}
	})

	t.Run("Usage", func(t *testing.T) { testUsage(t, open(t, newClock())) })

	t.Run("BadNames", func(t *testing.T) {
		s := open(t, newClock())
		if _, _, err := s.Get(ctx, "", "hm"); err == nil || !strings.Contains(err.Error(), "tenant is empty") {
			t.Errorf("Get with empty tenant = %v, want an error naming the tenant", err)
		}
		if err := s.Put(ctx, Checkpoint{Tenant: "t1", Monitor: "a#b"}); err == nil || !strings.Contains(err.Error(), `monitor "a#b"`) {
			t.Errorf("Put with monitor a#b = %v, want an error naming the monitor", err)
		}
		if _, err := s.Acquire(ctx, "t1", "", time.Minute); err == nil || !strings.Contains(err.Error(), "owner is empty") {
			t.Errorf("Acquire with empty owner = %v", err)
		}
		if _, err := s.Acquire(ctx, "t1", "run-a", 0); err == nil || !strings.Contains(err.Error(), "ttl") {
			t.Errorf("Acquire with zero ttl = %v", err)
		}
	})
}

func assertCheckpoint(t *testing.T, got, want Checkpoint) {
	t.Helper()
	if got.Tenant != want.Tenant || got.Monitor != want.Monitor || !got.Next.Equal(want.Next) ||
		!got.UpdatedAt.Equal(want.UpdatedAt) || !got.LastRunAt.Equal(want.LastRunAt) ||
		!got.LastSuccess.Equal(want.LastSuccess) || got.LastError != want.LastError ||
		got.LastPoints != want.LastPoints || got.LastWindows != want.LastWindows || got.Host != want.Host ||
		got.Cap != want.Cap || got.Delay != want.Delay {
		t.Errorf("checkpoint\n got %+v\nwant %+v", got, want)
	}
}

func assertMarks(t *testing.T, got, want map[string]Mark) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d marks, want %d: %v", len(got), len(want), got)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || g.Hash != w.Hash || !g.Expires.Equal(w.Expires) || !g.Open.Equal(w.Open) {
			t.Errorf("mark %s = %+v (present %v), want %+v", k, g, ok, w)
		}
	}
}

// testAcquireRace has racers acquire one tenant's lease at the same instant, round after round:
// exactly one may win. It is run against the file store, whose atomicity is ours (the tenant's
// lock around read-check-write). For DynamoDB the atomicity of a conditional write is the service's guarantee and the
// condition itself is tested in testConformance; moto's threaded server checks a condition and
// writes the item without a lock (moto 5.2 dynamodb put_item), so two racers can both win there
// and a race test against it would test moto, not the store.
func testAcquireRace(t *testing.T, open storeFactory) {
	ctx := context.Background()
	s := open(t, newClock())
	const rounds, racers = 10, 4
	for round := range rounds {
		tenant := fmt.Sprintf("race%d", round)
		errs := make([]error, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-start
				_, errs[i] = s.Acquire(ctx, tenant, fmt.Sprintf("run-%d", i), time.Minute)
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, err := range errs {
			var held *HeldError
			switch {
			case err == nil:
				wins++
			case !errors.As(err, &held):
				t.Errorf("round %d racer %d: %v, want success or *HeldError", round, i, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d racers acquired the lease, want exactly 1 (%v)", round, wins, errs)
		}
	}
}
