package monitor

import (
	"slices"
	"strings"
	"testing"
)

func TestSettingProblems(t *testing.T) {
	known := strings.Join(IDs(), ",")
	for _, c := range []struct {
		items []string
		want  []string
	}{
		{[]string{"auto"}, nil},
		{[]string{"all"}, nil},
		{[]string{"hm", "status"}, nil},
		{nil, []string{`empty; use "auto", "all" or a comma list of monitor ids (` + known + ")"}},
		{[]string{"auto", "hm"}, []string{`"auto" cannot be combined with monitor ids`}},
		{[]string{"hm", "all", "events", "x"}, []string{
			`"all" cannot be combined with monitor ids`,
			`unknown monitor "events"; known: ` + known,
			`unknown monitor "x"; known: ` + known,
		}},
	} {
		if got := SettingProblems(c.items); !slices.Equal(got, c.want) {
			t.Errorf("SettingProblems(%q) = %q, want %q", c.items, got, c.want)
		}
	}
}
