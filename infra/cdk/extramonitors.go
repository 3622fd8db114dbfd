package main

import (
	"encoding/json"
	"strings"

	"github.com/calm-collector/calm-collector/internal/monitor"
)

// keyExtraMonitors is the context key of the monitors given as data: a JSON list of monitor
// definitions (docs/design.md, "Monitors given as data"), written to both functions as
// CALM_EXTRA_MONITORS.
const keyExtraMonitors = monitor.DefinitionsName

// extraMonitors reads the extraMonitors context value (a JSON array, or a string holding one)
// as compact JSON ("" for none).
func (p *parser) extraMonitors() string {
	switch v := p.get(keyExtraMonitors).(type) {
	case nil:
		return ""
	case string:
		if s := strings.TrimSpace(v); s != "" && s != "[]" {
			return s
		}
		return ""
	case []any:
		if len(v) == 0 {
			return ""
		}
		raw, err := json.Marshal(v)
		if err != nil {
			p.fail(keyExtraMonitors, "not JSON: %v", err)
		}
		return string(raw)
	default:
		p.fail(keyExtraMonitors, "want a JSON array of monitor definitions, got %v", v)
		return ""
	}
}

// monitorTable is the functions' own monitor table: the built-in monitors and the extra ones,
// checked by the functions' own rule (monitor.Table.ParseDefinitions), every problem a line
// naming its field.
func (c *Config) monitorTable(p *problems) monitor.Table {
	tab, err := monitor.Builtin().WithDefinitions([]byte(c.ExtraMonitors))
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			p.fail(keyExtraMonitors, "%s", line)
		}
		return monitor.Builtin()
	}
	return tab
}
