package main

import (
	"slices"
	"strings"
)

// The functions' rules applied at synth to what the stack writes into their environment, so that
// a stack setting a function would refuse is refused by `cdk synth` with the same message
// (docs/deploy.md, "The stack–function contract").

// monitorItems splits a monitors setting as the functions split CALM_MONITORS: blanks trimmed,
// empty items and repeats dropped.
func monitorItems(setting string) []string {
	var out []string
	for item := range strings.SplitSeq(setting, ",") {
		if item = strings.TrimSpace(item); item != "" && !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return out
}
