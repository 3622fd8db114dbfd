package conntest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/calm-collector/calm-collector/internal/monitor"
)

// The scopes check: what the token grants against what the enabled monitors need.

// need is one scope the enabled monitors need, with who needs it.
type need struct {
	scope     string
	confirmed bool
	by        []string
}

// needs lists the scopes the enabled monitors and the api check need, confirmed ones first.
func (t *tester) needs() []need {
	var ns []need
	add := func(scope string, confirmed bool, by string) {
		if i := slices.IndexFunc(ns, func(n need) bool { return n.scope == scope }); i >= 0 {
			ns[i].by = append(ns[i].by, by)
			ns[i].confirmed = ns[i].confirmed || confirmed
			return
		}
		ns = append(ns, need{scope: scope, confirmed: confirmed, by: []string{by}})
	}
	add(monitor.AnalyticsScope, true, "api check and service discovery")
	for _, m := range t.enabled() {
		for _, s := range m.NeedsScopes()[1:] {
			add(s, true, m.ID) // the API's scope (metrics, analytics)
		}
		add(m.Scope, m.ScopeConfirmed, m.ID)
	}
	slices.SortStableFunc(ns, func(a, b need) int {
		switch {
		case a.confirmed == b.confirmed:
			return 0
		case a.confirmed:
			return -1
		}
		return 1
	})
	return ns
}

func (t *tester) checkScopes(context.Context) Check {
	if t.noToken != "" {
		return skip("needs a token")
	}
	var granted []string
	for _, s := range t.tokens.Scopes() {
		if i := strings.Index(s, "calm-api."); i >= 0 {
			granted = append(granted, s[i:])
		}
	}
	slices.Sort(granted)
	granted = slices.Compact(granted)
	t.granted = granted

	var missing, missingLines, unconfirmed []string
	for _, n := range t.needs() {
		if slices.Contains(granted, n.scope) {
			continue
		}
		label := fmt.Sprintf("%s (%s)", n.scope, strings.Join(n.by, ", "))
		if n.confirmed {
			missing = append(missing, label)
			missingLines = append(missingLines, authority(n.scope))
		} else {
			unconfirmed = append(unconfirmed, label)
		}
	}

	// What the token grants, and the unconfirmed scopes it lacks (their probes decide).
	grants := "granted: " + cmp.Or(strings.Join(granted, ", "), "none")
	if len(unconfirmed) > 0 {
		grants += "; not granted, but unconfirmed (the monitor probe decides): " + strings.Join(unconfirmed, ", ")
	}
	if len(missing) > 0 && t.opts.Auto && t.analyticsGranted() && len(t.autoSkipped()) < len(t.opts.Monitors) {
		// auto collects what the token allows: the rest is a warning with the lines to add.
		detail := "auto skips " + strings.Join(t.autoSkipped(), ", ") + ": missing " + strings.Join(missing, ", ") + "; " + grants
		return Check{Status: Warn, Detail: detail, Missing: missingLines,
			Hint: "to collect the skipped monitors too, " + t.scopeHint(granted)}
	}
	if len(missing) > 0 {
		return Check{Status: Fail, Detail: "missing " + strings.Join(missing, ", ") + "; " + grants, Missing: missingLines, Hint: t.scopeHint(granted)}
	}
	if len(unconfirmed) > 0 {
		return Check{Status: Warn, Detail: grants}
	}
	return Check{Status: Pass, Detail: grants + "; covers " + strings.Join(t.opts.Monitors, ", ")}
}

// analyticsGranted reports whether the token has the scope the api check needs, which no
// monitor selection can do without.
func (t *tester) analyticsGranted() bool { return slices.Contains(t.granted, monitor.AnalyticsScope) }

// autoLacks returns the confirmed scope the token lacks for a monitor, as a collection's "auto"
// would judge it ("" when it would collect the monitor). Unconfirmed scopes are left to the probe.
func (t *tester) autoLacks(m monitor.Monitor) string {
	if m.ScopeConfirmed && !slices.Contains(t.granted, m.Scope) {
		return m.Scope
	}
	for _, s := range m.NeedsScopes()[1:] {
		if !slices.Contains(t.granted, s) {
			return s
		}
	}
	return ""
}

// autoSkipped lists the enabled monitors that "auto" would skip for a missing scope.
func (t *tester) autoSkipped() []string {
	var ids []string
	for _, m := range t.enabled() {
		if t.autoLacks(m) != "" {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// scopeHint says how to grant the missing scopes: the service instance parameters (with every
// authority the collector needs, since an update replaces the list), then a new key.
func (t *tester) scopeHint(granted []string, extra ...string) string {
	var auths []string
	for _, s := range slices.Concat(extra, granted) {
		auths = append(auths, authority(s))
	}
	for _, n := range t.needs() {
		if n.confirmed || slices.Contains(granted, n.scope) {
			auths = append(auths, authority(n.scope))
		}
	}
	slices.Sort(auths)
	auths = slices.Compact(auths)
	params, _ := json.Marshal(map[string]any{"xs-security": map[string]any{
		"xsappname":   xsappname(t.settings.ClientID),
		"authorities": auths,
	}})
	return "add the missing authorities to the SAP Cloud ALM API service instance in the SAP BTP cockpit " +
		"(Instances → Update → parameters), then create a new service key or binding and store it here " +
		"(a token carries only the scopes granted when its key was created). Parameters: " + string(params)
}

// xsappname guesses the service instance's xsappname from the client id
// ("sb-<xsappname>!b123|sapcloudalm!b456"), for the parameters to paste.
func xsappname(clientID string) string {
	first, _, _ := strings.Cut(clientID, "|")
	name, ok := strings.CutPrefix(first, "sb-")
	if !ok {
		return "calm-collector"
	}
	name, _, _ = strings.Cut(name, "!")
	if name == "" {
		return "calm-collector"
	}
	return name
}
