package main

import (
	"runtime/debug"
	"slices"
)

// defaultMemoryBudget is calmctl's overall memory limit when GOMEMLIMIT is unset. Under a limit
// the client caps every API answer (calm.AnswerCap of half of it: 512 MiB gives 10.7 MiB per
// answer with four monitors, about 130 binary pages of 5,000 points), so a tenant serving giant pages fails those
// windows with the cap named, instead of the process growing until the machine swaps (409 MB with
// four 30 MB pages without one). GOMEMLIMIT sets another budget; GOMEMLIMIT=off sets none.
const defaultMemoryBudget = 512 << 20

// budgetedCommands are the commands that fetch or serve Cloud ALM answers.
var budgetedCommands = []string{"collect", "test", "console", "sim"}

// memoryBudget returns the memory limit command applies: the default when the environment has
// no GOMEMLIMIT (the runtime has applied that one already), none for other commands.
func memoryBudget(command string, getenv func(string) string) (int64, bool) {
	if getenv("GOMEMLIMIT") != "" || !slices.Contains(budgetedCommands, command) {
		return 0, false
	}
	return defaultMemoryBudget, true
}

// applyMemoryBudget sets memoryBudget's limit, if any.
func applyMemoryBudget(command string, getenv func(string) string) {
	if limit, ok := memoryBudget(command, getenv); ok {
		debug.SetMemoryLimit(limit)
	}
}
