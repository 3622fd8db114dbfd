package secrets

import (
	"strings"
	"testing"
	"time"
)

func TestConnectorsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := ConnectorsFromEnv(env(map[string]string{"CALM_SECRET_ID": " arn:x ", "CALM_SECRET_IDS": `{"prod":"arn:p"}`,
		"CALM_CONNECTOR_PREFIX": "calm-collector/s/connectors/", "CALM_SECRET_TTL": "90s"}))
	if err != nil || c.ID != "arn:x" || c.IDs["prod"] != "arn:p" || c.Prefix != "calm-collector/s/connectors/" || c.TTL != 90*time.Second {
		t.Errorf("= %+v, %v", c, err)
	}
	if c, err := ConnectorsFromEnv(env(map[string]string{"CALM_CONNECTOR_PREFIX": "p/"})); err != nil || c.TTL != DefaultTTL {
		t.Errorf("a prefix alone: %+v, %v; want accepted with the default TTL", c, err)
	}
	if _, err := ConnectorsFromEnv(env(nil)); err == nil || err.Error() != "CALM_SECRET_ID: missing; set it to the connector secret's id or ARN (or set CALM_SECRET_IDS or CALM_CONNECTOR_PREFIX)" {
		t.Errorf("nothing set: %v", err)
	}
	_, err = ConnectorsFromEnv(env(map[string]string{"CALM_SECRET_IDS": `{"a":`, "CALM_CONNECTOR_PREFIX": "p", "CALM_SECRET_TTL": "0"}))
	for _, want := range []string{
		`CALM_SECRET_IDS: not a JSON object like {"prod":"arn:aws:secretsmanager:..."}`,
		`CALM_CONNECTOR_PREFIX: "p" must end in '/'`,
		`CALM_SECRET_TTL: "0" is not a positive duration like 5m`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\ndoes not say %s", err, want)
		}
	}
	_, err = ConnectorsFromEnv(env(map[string]string{"CALM_SECRET_IDS": `{"":"arn:x","b":" "}`}))
	for _, want := range []string{`connector "" has an empty name or secret id`, `connector "b" has an empty name or secret id`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\ndoes not say %s", err, want)
		}
	}
}
