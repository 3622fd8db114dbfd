package state

import (
	"context"
	"strings"
	"testing"
	"time"
)

// testUsage: bytes add up per tenant and UTC month, months and tenants are apart, the
// checkpoints do not see usage items, and bad input names every problem at once.
func testUsage(t *testing.T, s Store) {
	ctx := context.Background()
	for _, add := range []struct {
		tenant, month string
		bytes, want   int64
	}{
		{"t1", "2026-11", 1000, 1000},
		{"t1", "2026-11", 234, 1234},
		{"t1", "2026-12", 5, 5}, // a new month starts from zero
		{"t2", "2026-11", 7, 7},
		{"t1", "2026-11", 0, 1234}, // a run that fetched nothing
	} {
		u, err := s.AddUsage(ctx, add.tenant, add.month, add.bytes)
		if err != nil {
			t.Fatalf("AddUsage(%s, %s, %d): %v", add.tenant, add.month, add.bytes, err)
		}
		if u.APIBytes != add.want || u.Tenant != add.tenant || u.Month != add.month || u.Updated.IsZero() {
			t.Errorf("AddUsage(%s, %s, %d) = %+v, want %d bytes", add.tenant, add.month, add.bytes, u, add.want)
		}
	}
	if cps, err := s.List(ctx, "t1"); err != nil || len(cps) != 0 {
		t.Errorf("List after AddUsage = %v, %v; want no checkpoints", cps, err)
	}
	_, err := s.AddUsage(ctx, "", "2026-13", -1)
	for _, want := range []string{"tenant is empty", `month "2026-13"`, "bytes -1 is negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("AddUsage with bad input: %v, want it to name %q", err, want)
		}
	}
}

func TestUsageMonthIsUTC(t *testing.T) {
	// 00:30 on 1 December in Berlin is still November in UTC.
	berlin := time.FixedZone("CET", 3600)
	if got := UsageMonth(time.Date(2026, 12, 1, 0, 30, 0, 0, berlin)); got != "2026-11" {
		t.Errorf("UsageMonth = %s, want 2026-11", got)
	}
}
