package secrets

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Connectors is where a function finds its connectors' secrets, as its environment names them
// (docs/architecture.md, "Lambda environment"): the collect and testconn functions read it
// the same way, with the same messages.
type Connectors struct {
	// ID is the default connector's secret id or ARN (CALM_SECRET_ID); "" when there is none.
	ID string
	// IDs are the named connectors (CALM_SECRET_IDS, a JSON object name → secret id or ARN).
	IDs map[string]string
	// Prefix names the connector secrets found by name at run time (CALM_CONNECTOR_PREFIX,
	// ending in '/'); "" for none.
	Prefix string
	// TTL is how long a read secret is reused (CALM_SECRET_TTL, default DefaultTTL).
	TTL time.Duration
}

// ConnectorsFromEnv reads CALM_SECRET_ID, CALM_SECRET_IDS, CALM_CONNECTOR_PREFIX and
// CALM_SECRET_TTL through getenv, and reports every problem at once, each naming its variable
// and what to do. At least one of the first three must be set.
func ConnectorsFromEnv(getenv func(string) string) (Connectors, error) {
	var errs []error
	c := Connectors{ID: strings.TrimSpace(getenv("CALM_SECRET_ID")), TTL: DefaultTTL}
	if v := strings.TrimSpace(getenv("CALM_SECRET_IDS")); v != "" {
		if err := json.Unmarshal([]byte(v), &c.IDs); err != nil {
			errs = append(errs, fmt.Errorf(`CALM_SECRET_IDS: not a JSON object like {"prod":"arn:aws:secretsmanager:..."}: %v`, err))
		}
		for name, id := range c.IDs {
			if strings.TrimSpace(name) == "" || strings.TrimSpace(id) == "" {
				errs = append(errs, fmt.Errorf("CALM_SECRET_IDS: connector %q has an empty name or secret id; give both", name))
			}
		}
	}
	c.Prefix = strings.TrimSpace(getenv("CALM_CONNECTOR_PREFIX"))
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		errs = append(errs, fmt.Errorf("CALM_CONNECTOR_PREFIX: %q must end in '/', like calm-collector/STACK/connectors/", c.Prefix))
	}
	if c.ID == "" && len(c.IDs) == 0 && c.Prefix == "" {
		errs = append(errs, errors.New("CALM_SECRET_ID: missing; set it to the connector secret's id or ARN (or set CALM_SECRET_IDS or CALM_CONNECTOR_PREFIX)"))
	}
	if v := strings.TrimSpace(getenv("CALM_SECRET_TTL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("CALM_SECRET_TTL: %q is not a positive duration like 5m (how long a read secret is reused)", v))
		} else {
			c.TTL = d
		}
	}
	return c, errors.Join(errs...)
}
