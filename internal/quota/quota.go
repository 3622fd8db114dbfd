// Package quota is the one rule of a tenant's monthly fair-use quota of Cloud ALM API data
// (docs/transfer.md, "The quota as a budget"): its default, the share of it above which a
// projection warns, and the setting CALM_API_QUOTA_GB with its parser and its words for a bad
// value. The functions apply it at cold start (collect's month-to-date projection, testconn's
// quota check), calmctl for its --quota-gb, and infra/cdk at synth (the apiQuotaGB context key
// it writes into both functions' environment, and the alarm's threshold). It imports only the
// standard library, so that the CDK app may import it.
package quota

import (
	"fmt"
	"strconv"
	"strings"
)

const (
	// Env is the setting both functions read.
	Env = "CALM_API_QUOTA_GB"
	// DefaultGB is the 24 GB of outbound API data a month in a tenant's fair use; tenants can
	// buy more (Env, calmctl test --quota-gb, the stack's apiQuotaGB).
	DefaultGB = 24.0
	// DefaultBytes is DefaultGB in bytes (1 GB = 10⁹ bytes).
	DefaultBytes int64 = 24_000_000_000
	// WarnShare is the share of the quota above which a projection warns: the connection
	// test's, and the collect function's month-to-date projection (a warning and the stack's
	// alarm).
	WarnShare = 0.5
)

// ValidGB reports whether gb gigabytes may be a quota: a positive, finite number up to 10⁹.
func ValidGB(gb float64) bool { return gb > 0 && gb <= 1e9 }

// FormatGB is the setting that says gb gigabytes.
func FormatGB(gb float64) string { return strconv.FormatFloat(gb, 'f', -1, 64) }

// Problem is what is wrong with the setting v, in the words the functions and the stack use.
func Problem(v string) string {
	return fmt.Sprintf("%q is not a positive number of gigabytes like 24 (the tenant's monthly API quota)", v)
}

// ParseGB reads the setting: a positive number of gigabytes such as 24 or 48.5; "" is
// DefaultBytes. The error names the variable.
func ParseGB(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return DefaultBytes, nil
	}
	gb, err := strconv.ParseFloat(v, 64)
	if err != nil || !ValidGB(gb) {
		return 0, fmt.Errorf("%s: %s", Env, Problem(v))
	}
	return int64(gb * 1e9), nil
}
