package conntest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/transcript"
)

// DefaultTimeout bounds each check when Options.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// Options tune one connection test. The zero value tests monitor.Defaults() with no host limits.
type Options struct {
	// Monitors are the enabled monitor ids (see internal/monitor); empty means the table's
	// defaults (monitor.Table.Defaults: the built-in ones and every monitor of Extra).
	Monitors []string
	// Extra are monitors given as data (monitor.Definition), known besides the built-in ones.
	Extra []monitor.Monitor
	// Auto says the monitors are what "auto" picks, not named by the user. A confirmed scope the
	// token lacks then only makes a collection skip the monitors that need it: the scopes check
	// warns, naming the authority line to add, and their probes are skipped. For named monitors
	// (Auto false) a missing scope fails. Auto still fails when nothing would be collected.
	Auto bool
	// AllowHost, when set, is applied in the settings check to every host the settings name:
	// a non-nil error fails the test before anything is contacted. Used for candidate settings
	// sent to the testconn function URL (see Allowlist.Host).
	AllowHost func(host string) error
	// AllowAddr, when set, is applied to every address a host resolves to, in the reach check and
	// in the dialer of the default HTTP client, so that an allowed name cannot lead to an
	// internal address (see Allowlist.Addr).
	AllowAddr func(ip netip.Addr) error
	// HTTPClient is used for the token and API calls; nil builds one with Timeout (guarded by
	// AllowAddr when set). Its *http.Transport TLS settings, if any, are used by the reach check.
	HTTPClient *http.Client
	// Timeout bounds each check; zero means DefaultTimeout.
	Timeout time.Duration
	// Now gives the clock for the monitor probes' windows; nil means time.Now.
	Now func() time.Time
	// SchedulePeriod is the time between scheduled runs, for the quota projection; zero means
	// the stack's default, cadence.SchedulePeriod.
	SchedulePeriod time.Duration
	// Settle is collection's settle horizon (CALM_SETTLE), for the quota projection's late-data
	// re-checks; zero means collection's default, cadence.Settle, and a negative one none
	// (collection with CALM_SETTLE=0).
	Settle time.Duration
	// Recorder, when set, receives every HTTP exchange of the test, the token endpoint's
	// included, as a transcript (docs/transcripts.md); the caller closes it.
	Recorder *transcript.Recorder
	// UsualDelay, when set, reads how long after a bucket closes the tenant's late data has come,
	// as collection learned it into its state (collect.UsualDelay); api-shape reports it. nil: no
	// collection state is at hand (the testconn function).
	UsualDelay func(ctx context.Context, tenant string) (d time.Duration, ok bool, err error)
	// QuotaBytes is the tenant's monthly fair-use quota of API data; zero means
	// quota.DefaultBytes (24 GB; tenants can buy more). The quota check warns above
	// quota.WarnShare of it.
	QuotaBytes int64
}

// Run tests connector settings (either secret form, as stored) and returns the report. It never
// returns an error: every failure is a check in the report.
func Run(ctx context.Context, raw []byte, opts Options) Report {
	t := newTester(opts)
	t.scrub = calm.SecretValues(raw)
	start := time.Now()
	t.check(ctx, "settings", func(context.Context) Check { return t.checkSettings(raw) })
	t.runAfterSettings(ctx)
	t.report.DurationMs = time.Since(start).Milliseconds()
	t.report.OK = len(t.report.Failed()) == 0
	scrub(&t.report, t.scrub)
	return t.report
}

// Unavailable returns the report of a test that could not get at its settings (an unreadable
// secret, say): the settings check fails with detail and hint, every later check is skipped.
func Unavailable(connector, detail, hint string, opts Options) Report {
	t := newTester(opts)
	t.noSettings = "needs settings"
	t.report.Connector = connector
	t.check(context.Background(), "settings", func(context.Context) Check {
		return Check{Status: Fail, Detail: detail, Hint: hint}
	})
	t.runAfterSettings(context.Background())
	return t.report
}

// tester holds one run's state: what the earlier checks established for the later ones.
type tester struct {
	opts  Options
	table monitor.Table // the built-in monitors, opts.Extra and the secret's extraMonitors
	// defaultMonitors says opts.Monitors was empty: the table's defaults are tested, the
	// monitors the secret gives included.
	defaultMonitors bool
	report          Report
	scrub           []string // secret values that must never appear in the report

	settings  calm.Settings
	hc        *http.Client
	tokens    *calm.TokenSource
	client    *calm.Client
	granted   []string         // granted calm-api.* scope suffixes
	probed    []probed         // metrics monitors that answered with data, for the quota check
	served    []served         // logs and traces monitors whose probe listed their services, for the quota check
	analytics []analyticsProbe // analytics monitors that answered with values, for the quota check
	// logsRecords counts the log records the logs probes found (see logsResult).
	logsRecords int

	cancelled bool // a check found the context done

	// Why a dependent check must be skipped; "" when the dependency holds.
	noSettings, noAuthHost, noAPIHost, noToken, noAPI string
}

// newTester fills in the defaults of opts: DefaultTimeout, time.Now, and the table's default
// monitors when none are given.
func newTester(opts Options) *tester {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	t := &tester{opts: opts, table: tableOf(opts.Extra)}
	if len(t.opts.Monitors) == 0 {
		t.opts.Monitors, t.defaultMonitors = t.table.Defaults(), true
	}
	return t
}

// runAfterSettings runs every check after the settings check, in the report's order.
func (t *tester) runAfterSettings(ctx context.Context) {
	t.check(ctx, "reach", t.checkReach)
	t.check(ctx, "token", t.checkToken)
	t.check(ctx, "scopes", t.checkScopes)
	t.check(ctx, "api", t.checkAPI)
	t.check(ctx, "api-shape", t.checkAPIShape)
	for _, id := range t.opts.Monitors {
		t.check(ctx, "monitor:"+id, func(ctx context.Context) Check { return t.checkMonitor(ctx, id) })
	}
	t.check(ctx, "quota", t.checkQuota)
}

// check runs one check with its own timeout and records it with its duration. A check whose
// dependency failed returns a skip without contacting anything.
func (t *tester) check(ctx context.Context, id string, fn func(context.Context) Check) {
	start := time.Now()
	var c Check
	if err := ctx.Err(); err != nil {
		// The first check that cannot run fails (so that a cut-short test never reads as passed);
		// the later ones are skipped.
		if t.cancelled {
			c = skip("the test was cancelled")
		} else {
			t.cancelled = true
			c = Check{Status: Fail, Detail: "the test was cancelled before this check (" + err.Error() + ")",
				Hint: "the whole test ran out of time or was stopped: run it again, and look at the durations above for the slow step"}
		}
	} else {
		cctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
		c = fn(cctx)
		cancel()
	}
	c.ID = id
	c.DurationMs = time.Since(start).Milliseconds()
	t.report.Checks = append(t.report.Checks, c)
}

func skip(reason string) Check { return Check{Status: Skip, Detail: reason} }

// ---- settings

const settingsHint = "fix the fields named above with the values from the SAP BTP service key of the SAP Cloud ALM API instance: " +
	"authenticationServer = uaa.url, clientId = uaa.clientid, clientSecret = uaa.clientsecret, url = endpoints.Api without /api " +
	"(or store the service key JSON exactly as downloaded)"

func (t *tester) checkSettings(raw []byte) Check {
	if IsPlaceholder(raw) {
		t.noSettings = "needs settings (the secret is not filled in yet)"
		return Check{Status: Fail,
			Detail: "the connector settings are not filled in yet (empty, or still the placeholder written at deploy time)",
			Hint: "put the connector settings into the secret: the BTP service key JSON of the SAP Cloud ALM API instance as downloaded, " +
				"or the connector fields {\"authenticationServer\",\"clientId\",\"clientSecret\",\"url\"} " +
				"(e.g. with `calmctl test --secret-file key.json --function-url URL --save`)"}
	}
	s, warnings, err := calm.ParseSettings(raw)
	if err != nil {
		t.noSettings = "needs valid settings"
		var se *calm.SettingsError
		if errors.As(err, &se) {
			parts := make([]string, len(se.Problems))
			for i, p := range se.Problems {
				parts[i] = p.String()
			}
			return Check{Status: Fail, Detail: strings.Join(parts, "; "), Hint: settingsHint}
		}
		return Check{Status: Fail, Detail: err.Error(), Hint: settingsHint}
	}
	t.settings = s
	t.report.Connector = s.Name
	t.scrub = append(t.scrub, s.ClientSecret.Reveal(), s.Key.Reveal())
	if c, bad := t.takeSecretMonitors(s); bad {
		return c
	}

	if t.opts.AllowHost != nil {
		var bad []string
		for _, h := range t.hosts() {
			if err := t.opts.AllowHost(h.host); err != nil {
				bad = append(bad, h.field+": "+err.Error())
			}
		}
		if len(bad) > 0 {
			t.noSettings = "needs settings that point at SAP hosts"
			return Check{Status: Fail, Detail: strings.Join(bad, "; "),
				Hint: "settings sent for testing may only point at SAP Cloud ALM and SAP BTP hosts over https " +
					"(a tenant <tenant>.<region>.alm.cloud.sap, a token endpoint <subdomain>.authentication.<region>.hana.ondemand.com): " +
					"use endpoints.Api (without /api) and uaa.url from the service key"}
		}
	}
	t.hc = t.httpClient()
	if len(warnings) > 0 {
		return Check{Status: Warn, Detail: strings.Join(warnings, "; ")}
	}
	kind := "client secret"
	if s.IsX509() {
		kind = "x509 certificate"
	}
	return Check{Status: Pass, Detail: fmt.Sprintf("connector %s: tenant %s, token endpoint %s, credentials: %s", s.Name, s.URL, s.TokenURL(), kind)}
}

// placeholderWords are the values a secret holds before anyone filled it in (compared with
// everything but letters removed, lower case): what the CDK stack and setup templates write, and
// what people type.
var placeholderWords = []string{"placeholder", "changeme", "replaceme", "todo", "tbd", "fillmein", "notset", "none", "null", "xxx", "yoursecret", "yourclientsecret"}

// IsPlaceholder reports whether a stored secret was never filled in: empty, "{}", a bare
// placeholder word, an object with a "placeholder" field (what the CDK stack writes), or settings whose client secret is a placeholder like "REPLACE_ME",
// "<client secret>" or "TODO".
func IsPlaceholder(raw []byte) bool {
	v := strings.TrimSpace(string(raw))
	if v == "" || v == "{}" {
		return true
	}
	if !strings.HasPrefix(v, "{") {
		return isPlaceholderValue(strings.Trim(v, `"`))
	}
	// The CDK stack writes {"name":…,"placeholder":"fill in with …"}.
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) == nil {
		if _, ok := top["placeholder"]; ok {
			return true
		}
	}
	found := false
	calm.WalkJSONStrings(raw, func(key, val string) {
		if strings.EqualFold(key, "clientsecret") && isPlaceholderValue(val) {
			found = true
		}
	})
	return found
}

func isPlaceholderValue(v string) bool {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") || strings.HasPrefix(v, "${") {
		return true
	}
	letters := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r | 0x20
		}
		return -1
	}, v)
	if letters == "" {
		return false
	}
	if strings.HasPrefix(letters, "replacewith") || strings.HasPrefix(letters, "paste") {
		return true
	}
	return slices.ContainsFunc(placeholderWords, func(w string) bool {
		return letters == w || letters == "your"+w || letters == w+"here"
	})
}

// ---- HTTP client

// httpClient returns the client for the token and API calls: the caller's, or one whose dialer
// refuses addresses AllowAddr rejects and whose redirects must stay on allowed hosts.
func (t *tester) httpClient() *http.Client {
	if t.opts.HTTPClient != nil {
		return t.opts.HTTPClient
	}
	dialer := &net.Dialer{Timeout: t.opts.Timeout, KeepAlive: 30 * time.Second}
	if allow := t.opts.AllowAddr; allow != nil {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err == nil {
				err = allow(ap.Addr())
			}
			if err != nil {
				return fmt.Errorf("refusing to dial %s: %w", address, err)
			}
			return nil
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer.DialContext
	if t.opts.AllowHost != nil || t.opts.AllowAddr != nil {
		// A proxy would dial on our behalf and bypass the address guard.
		tr.Proxy = nil
	}
	hc := &http.Client{Transport: tr, Timeout: t.opts.Timeout}
	if allow := t.opts.AllowHost; allow != nil {
		hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			return allow(req.URL.Hostname())
		}
	}
	return hc
}

// scrub replaces every secret value that made it into a report: the last guard, never the first.
func scrub(r *Report, secrets []string) {
	secrets = slices.DeleteFunc(slices.Clone(secrets), func(s string) bool { return len(s) < 4 })
	if len(secrets) == 0 {
		return
	}
	clean := func(s string) string {
		for _, sec := range secrets {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
		return s
	}
	r.Connector = clean(r.Connector)
	for i := range r.Checks {
		c := &r.Checks[i]
		c.Detail, c.Hint = clean(c.Detail), clean(c.Hint)
		for j := range c.Missing {
			c.Missing[j] = clean(c.Missing[j])
		}
	}
}

// tableOf is the built-in table extended by extra; an extra whose id is taken is left out (the
// callers validate definitions before: monitor.Table.ParseDefinitions).
func tableOf(extra []monitor.Monitor) monitor.Table {
	t := monitor.Builtin()
	for _, m := range extra {
		if wider, err := t.With(m); err == nil {
			t = wider
		}
	}
	return t
}

// takeSecretMonitors adds the monitors the connector secret gives as data (its extraMonitors
// field) to the table, and to the monitors tested when they are the defaults. A bad list fails
// the settings check, every problem named with its field (bad is true).
func (t *tester) takeSecretMonitors(s calm.Settings) (c Check, bad bool) {
	extra, err := t.table.ParseDefinitions(s.ExtraMonitors)
	if err == nil {
		var wider monitor.Table
		if wider, err = t.table.With(extra...); err == nil {
			t.table = wider
		}
	}
	if err != nil {
		t.noSettings = "needs valid settings"
		return Check{Status: Fail, Detail: strings.ReplaceAll(err.Error(), "\n", "; "),
			Hint: "correct the secret's extraMonitors field (docs/design.md, \"Monitors given as data\")"}, true
	}
	if t.defaultMonitors {
		for _, m := range extra {
			t.opts.Monitors = append(t.opts.Monitors, m.ID)
		}
	}
	return Check{}, false
}
