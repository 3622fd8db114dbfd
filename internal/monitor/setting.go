package monitor

import (
	"fmt"
	"strings"
)

// The words of a monitors setting besides monitor ids.
const (
	// SettingAuto selects the monitors whose scope the token grants, among the confirmed ones.
	SettingAuto = "auto"
	// SettingAll selects every monitor of the table, unconfirmed scopes included.
	SettingAll = "all"
)

// SettingProblems is Builtin().SettingProblems.
func SettingProblems(ids []string) []string { return Builtin().SettingProblems(ids) }

// SettingProblems is the one rule for a monitors setting, as the collect function (CALM_MONITORS),
// the testconn function and the CDK app (the monitors context key) read it: the items of the
// comma list (split by the caller, blanks trimmed and empty items dropped) are "auto", "all" or
// monitor ids of the table, never a word mixed with ids. It returns one message per problem,
// without the setting's name, so that each caller names its own (docs/deploy.md, "The
// stack–function contract").
func (t Table) SettingProblems(ids []string) []string {
	var ps []string
	if len(ids) == 0 {
		ps = append(ps, fmt.Sprintf(`empty; use %q, %q or a comma list of monitor ids (%s)`, SettingAuto, SettingAll, strings.Join(t.IDs(), ",")))
	}
	for _, id := range ids {
		switch {
		case (id == SettingAuto || id == SettingAll) && len(ids) > 1:
			ps = append(ps, fmt.Sprintf("%q cannot be combined with monitor ids", id))
		case id == SettingAuto || id == SettingAll:
		default:
			if _, ok := t.Lookup(id); !ok {
				ps = append(ps, fmt.Sprintf("unknown monitor %q; known: %s", id, strings.Join(t.IDs(), ",")))
			}
		}
	}
	return ps
}
