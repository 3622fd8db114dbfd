package conntest

import (
	"os"
)

func ExampleRender() {
	_ = Render(os.Stdout, Report{OK: false, Connector: "prod-eu10", DurationMs: 812, Checks: []Check{
		{ID: "settings", Status: Warn, Detail: "url: removed the trailing /api; using https://t.eu10.alm.cloud.sap"},
		{ID: "reach", Status: Pass, Detail: "auth sub.authentication.eu10.hana.ondemand.com:443: dns 3 ms", DurationMs: 95},
		{ID: "token", Status: Fail, Detail: "HTTP 401 invalid_client", Hint: hintBadClient, DurationMs: 120},
		{ID: "scopes", Status: Skip, Detail: "needs a token"},
		{ID: "monitor:hm", Status: Fail, Detail: "HTTP 403", Hint: "add it", Missing: []string{"$XSMASTERAPPNAME.calm-api.hm.read"}},
	}})
	// Output:
	// connection test of prod-eu10: FAILED in 812 ms
	//   WARN  settings      0 ms  url: removed the trailing /api; using https://t.eu10.alm.cloud.sap
	//   ok    reach        95 ms  auth sub.authentication.eu10.hana.ondemand.com:443: dns 3 ms
	//   FAIL  token       120 ms  HTTP 401 invalid_client
	//         hint: the client ID or client secret is wrong: copy uaa.clientid and uaa.clientsecret from the service key again (the secret is shown only once, when the binding or key is created)
	//   skip  scopes        0 ms  needs a token
	//   FAIL  monitor:hm    0 ms  HTTP 403
	//         hint: add it
	//         missing: $XSMASTERAPPNAME.calm-api.hm.read
}
