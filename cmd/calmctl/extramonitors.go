package main

import (
	"fmt"
	"os"

	"github.com/calm-collector/calm-collector/internal/monitor"
)

// extraMonitorsHelp is the usage line of --extra-monitors, for every command that takes it.
const extraMonitorsHelp = "JSON file listing analytics monitors given as data, known besides the built-in ones (docs/design.md, \"Monitors given as data\")"

// readExtraMonitors reads an --extra-monitors file ("" = none): the monitors it defines and the
// built-in table extended by them. Problems name the file and the field.
func readExtraMonitors(path string) ([]monitor.Monitor, monitor.Table, error) {
	if path == "" {
		return nil, monitor.Builtin(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, monitor.Table{}, fmt.Errorf("--extra-monitors: %w", err)
	}
	extra, err := monitor.Builtin().ParseDefinitions(b)
	if err != nil {
		return nil, monitor.Table{}, fmt.Errorf("--extra-monitors %s: %w", path, err)
	}
	tab, err := monitor.Builtin().With(extra...)
	return extra, tab, err
}
