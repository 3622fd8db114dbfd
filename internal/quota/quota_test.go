package quota

import (
	"math"
	"testing"
)

func TestParseGB(t *testing.T) {
	for _, c := range []struct {
		v    string
		want int64
	}{{"", DefaultBytes}, {" 24 ", 24_000_000_000}, {"48.5", 48_500_000_000}, {"1e9", 1e18}} {
		if got, err := ParseGB(c.v); err != nil || got != c.want {
			t.Errorf("ParseGB(%q) = %d, %v; want %d", c.v, got, err, c.want)
		}
	}
	for _, v := range []string{"lots", "0", "-1.5", "2e9", "Inf", "NaN"} {
		_, err := ParseGB(v)
		if want := `CALM_API_QUOTA_GB: "` + v + `" is not a positive number of gigabytes like 24 (the tenant's monthly API quota)`; err == nil || err.Error() != want {
			t.Errorf("ParseGB(%q) error %v\nwant %s", v, err, want)
		}
	}
	if DefaultGB*1e9 != float64(DefaultBytes) {
		t.Errorf("DefaultGB %v and DefaultBytes %d differ", DefaultGB, DefaultBytes)
	}
	for _, gb := range []float64{0, -1, math.NaN(), math.Inf(1), 1e9 + 1} {
		if ValidGB(gb) {
			t.Errorf("ValidGB(%v) = true", gb)
		}
	}
}
