package alert

import (
	"errors"
	"fmt"
	"strings"

	"github.com/calm-collector/calm-collector/internal/alert/rules"
)

// Config is what the collect function reads from its environment (docs/architecture.md):
// CALM_EVENT_BUS, the bus name or ARN (empty: no events), and CALM_ALERT_RULES, a JSON array of
// rules (see rules.Parse).
type Config struct {
	Bus   string
	Rules []rules.Rule
}

// ConfigFromEnv reads and checks both variables, naming every problem at once.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	var errs []error
	c.Bus = strings.TrimSpace(getenv("CALM_EVENT_BUS"))
	if strings.ContainsAny(c.Bus, " \t\n,") {
		errs = append(errs, fmt.Errorf("CALM_EVENT_BUS: %q is not an event bus name or ARN", c.Bus))
	}
	rs, err := rules.Parse(getenv("CALM_ALERT_RULES"))
	if err != nil {
		errs = append(errs, fmt.Errorf("CALM_ALERT_RULES: %w", err))
	}
	c.Rules = rs
	if len(rs) > 0 && c.Bus == "" {
		errs = append(errs, errors.New("CALM_ALERT_RULES: rules are set but CALM_EVENT_BUS is empty; set the bus the events go to"))
	}
	return c, errors.Join(errs...)
}
