package calm

import (
	"encoding/json"
	"strings"
	"testing"
)

// The secret's extraMonitors field is kept as given (checked by the monitor table's rule where
// it is used), in either form, without a warning, and stored again by MarshalConnector.
func TestSettingsKeepExtraMonitors(t *testing.T) {
	defs := `[{"id":"kpi-orders","provider":"KPI_HISTORY_TOTALS"}]`
	for _, raw := range []string{
		`{"authenticationServer":"https://sub.authentication.eu10.hana.ondemand.com","clientId":"c","clientSecret":"s3cr3t-value","url":"https://t.eu10.alm.cloud.sap","extraMonitors":` + defs + `}`,
		`{"endpoints":{"Api":"https://t.eu10.alm.cloud.sap/api"},"uaa":{"url":"https://sub.authentication.eu10.hana.ondemand.com","clientid":"c","clientsecret":"s3cr3t-value"},"extraMonitors":` + defs + `}`,
	} {
		s, warnings, err := ParseSettings([]byte(raw))
		if err != nil || len(warnings) != 0 || string(s.ExtraMonitors) != defs {
			t.Fatalf("ParseSettings = %s, %q, %v", s.ExtraMonitors, warnings, err)
		}
		out, err := s.MarshalConnector()
		if err != nil || !strings.Contains(string(out), `"extraMonitors":`+defs) || !json.Valid(out) {
			t.Errorf("MarshalConnector = %s, %v", out, err)
		}
	}
}
