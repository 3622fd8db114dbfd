package sim

import (
	"strings"
	"testing"
)

func TestParseBehavioursNamesEveryUnknownOne(t *testing.T) {
	_, err := ParseBehaviours("no-such, ,other-unknown")
	if err == nil {
		t.Fatal("unknown behaviours accepted")
	}
	for _, want := range []string{"no-such", "other-unknown"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	for _, name := range BehaviourNames() {
		if _, err := ParseBehaviours(name); err != nil {
			t.Errorf("ParseBehaviours(%q): %v", name, err)
		}
		if BehaviourDoc(name) == "" {
			t.Errorf("behaviour %q has no doc", name)
		}
	}
}
