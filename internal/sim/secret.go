package sim

import (
	"encoding/json"
	"net/url"
)

// ConnectorJSON is a connector secret (docs/design.md §2a) pointing at this simulator, with its
// real client secret. Call it after Start.
func (s *Server) ConnectorJSON() []byte {
	b, _ := json.MarshalIndent(map[string]string{
		"name":                 "sim",
		"authenticationServer": s.AuthURL(),
		"clientId":             s.cfg.ClientID,
		"clientSecret":         s.cfg.ClientSecret,
		"url":                  s.URL(),
	}, "", "  ")
	return b
}

// ServiceKeyJSON is a BTP service key (docs/design.md §2b) for this simulator: binding-secret, or
// x509 with the test PKI's client certificate when the server runs with StartTLS.
func (s *Server) ServiceKeyJSON() []byte {
	host := ""
	if u, err := url.Parse(s.URL()); err == nil {
		host = u.Hostname()
	}
	uaa := map[string]any{
		"clientid":     s.cfg.ClientID,
		"url":          s.AuthURL(),
		"identityzone": "sim-zone",
		"tenantid":     "sim-zone",
		"tenantmode":   "dedicated",
		"uaadomain":    host,
		"xsappname":    s.cfg.XSAppName,
		"sburl":        s.AuthURL(),
		"zoneid":       "sim-zone",
	}
	if s.pki != nil {
		uaa["credential-type"] = "x509"
		uaa["certificate"] = string(s.pki.ClientCertPEM)
		uaa["key"] = string(s.pki.ClientKeyPEM)
		uaa["certurl"] = s.AuthURL()
	} else {
		uaa["credential-type"] = "binding-secret"
		uaa["clientsecret"] = s.cfg.ClientSecret
	}
	b, _ := json.MarshalIndent(map[string]any{
		"endpoints":         map[string]string{"Api": s.URL() + "/api"},
		"uaa":               uaa,
		"sap.cloud.service": "com.sap.cloudalm.api",
	}, "", "  ")
	return b
}
