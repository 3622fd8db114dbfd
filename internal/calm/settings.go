package calm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Credential types of a BTP service key.
const (
	CredentialBindingSecret = "binding-secret"
	CredentialX509          = "x509"
)

// Where each field's value is found in the BTP service key; used in every Problem.
const (
	whereName       = `top-level "name" (optional; defaults to the first label of the URL host)`
	whereURL        = "endpoints.Api without /api"
	whereAuthServer = "uaa.url"
	whereClientID   = "uaa.clientid"
	whereSecret     = "uaa.clientsecret (shown only once, when the binding or service key is created)"
	whereCredType   = "uaa.credential-type" //nolint:gosec // G101: a field's name, not a credential
	whereCert       = "uaa.certificate"
	whereKey        = "uaa.key (shown only once, when the binding or service key is created)"
	whereCertURL    = "uaa.certurl"
)

// Settings are one connector's settings: one Cloud ALM tenant and its API credentials.
// Print them freely: the client secret and the private key are redacted.
type Settings struct {
	Name                 string // defaults to first label of the URL host
	AuthenticationServer string // uaa.url, no /oauth/token, no trailing slash
	ClientID             string
	ClientSecret         Secret
	URL                  string // endpoints.Api without /api, no trailing slash
	CredentialType       string // "binding-secret" (default) or "x509"
	Certificate          string // x509: PEM chain (not secret, but never logged in full)
	Key                  Secret // x509: PEM private key
	CertURL              string // x509: uaa.certurl
	// ExtraMonitors is the secret's "extraMonitors" field as given: a JSON list of monitors given
	// as data (monitor.Definition), checked by the caller with monitor.Table.ParseDefinitions.
	ExtraMonitors json.RawMessage
}

// TokenURL is {authenticationServer}/oauth/token, or {certurl}/oauth/token for x509.
func (s Settings) TokenURL() string {
	if s.IsX509() {
		return s.CertURL + "/oauth/token"
	}
	return s.AuthenticationServer + "/oauth/token"
}

// APIBase is URL + "/api", the base every API path is relative to.
func (s Settings) APIBase() string { return s.URL + "/api" }

// Format prints the settings with the client secret and the private key redacted and the
// certificate shortened, for every verb (%v, %+v, %#v, %s, …).
func (s Settings) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, "calm.Settings")
	}
	fmt.Fprintf(f, "{Name:%s AuthenticationServer:%s ClientID:%s ClientSecret:%s URL:%s CredentialType:%s Certificate:%s Key:%s CertURL:%s}",
		s.Name, s.AuthenticationServer, s.ClientID, s.ClientSecret, s.URL, s.CredentialType, shortPEM(s.Certificate), s.Key, s.CertURL)
}

// LogValue implements slog.LogValuer: secrets redacted, the certificate shortened.
func (s Settings) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", s.Name),
		slog.String("authenticationServer", s.AuthenticationServer),
		slog.String("clientId", s.ClientID),
		slog.Any("clientSecret", s.ClientSecret),
		slog.String("url", s.URL),
		slog.String("credentialType", s.CredentialType),
		slog.String("certificate", shortPEM(s.Certificate)),
		slog.Any("key", s.Key),
		slog.String("certUrl", s.CertURL),
	)
}

func shortPEM(p string) string {
	if p == "" {
		return ""
	}
	return fmt.Sprintf("[PEM, %d bytes]", len(p))
}

// IsX509 reports whether the credentials are an x509 certificate and key (mutual TLS).
func (s Settings) IsX509() bool { return s.CredentialType == CredentialX509 }

// connector is the connector-fields form of the secret (docs/design.md §2a). The x509 fields are an
// extension for keys of credential type x509; they are written only for such keys.
type connector struct {
	Name                 string          `json:"name,omitempty"`
	AuthenticationServer string          `json:"authenticationServer"`
	ClientID             string          `json:"clientId"`
	ClientSecret         string          `json:"clientSecret,omitempty"`
	URL                  string          `json:"url"`
	CredentialType       string          `json:"credentialType,omitempty"`
	Certificate          string          `json:"certificate,omitempty"`
	Key                  string          `json:"key,omitempty"`
	CertURL              string          `json:"certUrl,omitempty"`
	ExtraMonitors        json.RawMessage `json:"extraMonitors,omitempty"`
}

// MarshalConnector returns the connector-fields JSON (docs/design.md §2a) WITH the real secret, for
// storing in the secret store. Never log its result.
func (s Settings) MarshalConnector() ([]byte, error) {
	c := connector{
		Name:                 s.Name,
		AuthenticationServer: s.AuthenticationServer,
		ClientID:             s.ClientID,
		ClientSecret:         s.ClientSecret.Reveal(),
		URL:                  s.URL,
		ExtraMonitors:        s.ExtraMonitors,
	}
	if s.IsX509() {
		c.CredentialType = CredentialX509
		c.Certificate = s.Certificate
		c.Key = s.Key.Reveal()
		c.CertURL = s.CertURL
	}
	return json.Marshal(c) //nolint:gosec // G117: the one place that writes the secret, to its store
}

// Known fields of each form. Unknown ones are ignored with a warning naming them.
var (
	connectorFields = []string{"name", "authenticationServer", "clientId", "clientSecret", "url",
		"credentialType", "certificate", "key", "certUrl", "extraMonitors"}
	serviceKeyFields = []string{"name", "endpoints", "uaa", "extraMonitors"}
	// uaaFields are the fields XSUAA puts in a service key; only some are used, the others are
	// known and ignored silently.
	uaaFields = []string{"clientid", "clientsecret", "url", "identityzone", "identityzoneid",
		"credential-type", "certificate", "key", "certurl", "tenantid", "tenantmode", "sburl",
		"apiurl", "verificationkey", "xsappname", "subaccountid", "uaadomain", "zoneid",
		"serviceInstanceId", "trustedclientidsuffix"}
)

// ParseSettings accepts both secret forms (connector fields, or the raw BTP service key incl.
// x509, with an optional top-level "name"), trims every value, normalises URLs (a trailing
// /api, /oauth/token or slash is removed with a warning), enforces https except for loopback
// hosts and warns about unknown fields. Every problem is returned at once in a *SettingsError.
// Warnings never contain a secret.
func ParseSettings(data []byte) (Settings, []string, error) {
	var p parser
	s, ok := p.parse(data)
	if !ok {
		return Settings{}, p.warnings, &SettingsError{Problems: p.problems}
	}
	p.normalise(&s)
	// Add the rule checks, except for fields already reported (e.g. "must be a JSON string").
	for _, pr := range s.problems() {
		if !slices.ContainsFunc(p.problems, func(q Problem) bool { return q.Field == pr.Field }) {
			p.problems = append(p.problems, pr)
		}
	}
	if len(p.problems) > 0 {
		return Settings{}, p.warnings, &SettingsError{Problems: p.problems}
	}
	return s, p.warnings, nil
}

// Validate re-checks an already built Settings (used after edits); it returns a
// *SettingsError listing every problem, or nil.
func (s Settings) Validate() error {
	if ps := s.problems(); len(ps) > 0 {
		return &SettingsError{Problems: ps}
	}
	return nil
}

type parser struct {
	problems []Problem
	warnings []string
}

func (p *parser) problem(field, where, msg string) {
	p.problems = append(p.problems, Problem{Field: field, Where: where, Message: msg})
}

// parse decodes either form; ok is false when the input is not a JSON object at all.
func (p *parser) parse(data []byte) (s Settings, ok bool) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		p.problem("secret", "", "is empty; paste the connector fields or the BTP service key JSON")
		return Settings{}, false
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		// Never quote the input or the decoder's message: both can carry part of the secret.
		switch {
		case trimmed[0] == '[':
			p.problem("secret", "", "is a JSON array; it must be a JSON object (the connector fields or the BTP service key)")
		case json.Valid(trimmed):
			p.problem("secret", "", "is not a JSON object; it must be the connector fields or the BTP service key")
		default:
			var se *json.SyntaxError
			if errors.As(err, &se) {
				p.problem("secret", "", fmt.Sprintf("is not valid JSON (syntax error at byte %d); paste the connector fields or the BTP service key exactly as downloaded", se.Offset))
			} else {
				p.problem("secret", "", "is not valid JSON; paste the connector fields or the BTP service key exactly as downloaded")
			}
		}
		return Settings{}, false
	}
	if top == nil {
		p.problem("secret", "", "is JSON null; it must be a JSON object (the connector fields or the BTP service key)")
		return Settings{}, false
	}
	_, hasUAA := top["uaa"]
	_, hasEndpoints := top["endpoints"]
	if hasUAA || hasEndpoints {
		return p.parseServiceKey(top), true
	}
	return p.parseConnector(top), true
}

func (p *parser) parseConnector(top map[string]json.RawMessage) Settings {
	p.warnUnknown("", top, connectorFields)
	var s Settings
	s.Name = p.str(top, "name", "name", whereName)
	s.AuthenticationServer = p.str(top, "authenticationServer", "authenticationServer", whereAuthServer)
	s.ClientID = p.str(top, "clientId", "clientId", whereClientID)
	s.ClientSecret = Secret(p.str(top, "clientSecret", "clientSecret", whereSecret))
	s.URL = p.str(top, "url", "url", whereURL)
	s.CredentialType = p.str(top, "credentialType", "credentialType", whereCredType)
	s.Certificate = p.str(top, "certificate", "certificate", whereCert)
	s.Key = Secret(p.str(top, "key", "key", whereKey))
	s.CertURL = p.str(top, "certUrl", "certUrl", whereCertURL)
	s.ExtraMonitors = extraMonitors(top)
	return s
}

// extraMonitors is the secret's extraMonitors field (nil when absent or null).
func extraMonitors(top map[string]json.RawMessage) json.RawMessage {
	if raw, ok := top["extraMonitors"]; ok && string(bytes.TrimSpace(raw)) != "null" {
		return raw
	}
	return nil
}

func (p *parser) parseServiceKey(top map[string]json.RawMessage) Settings {
	var s Settings
	for k := range top {
		if !slices.Contains(serviceKeyFields, k) && !strings.HasPrefix(k, "sap.cloud.service") {
			p.warnings = append(p.warnings, fmt.Sprintf("ignored unknown field %q", k))
		}
	}
	s.Name = p.str(top, "name", "name", whereName)
	s.ExtraMonitors = extraMonitors(top)
	endpoints := p.object(top, "endpoints", "url", whereURL)
	uaa := p.object(top, "uaa", "uaa", "uaa")
	if endpoints != nil {
		// endpoints.Api always ends in /api: the connector url is that value without it. Only
		// what is left after that one /api (a doubled /api/api) is warned about.
		s.URL = strings.TrimSuffix(strings.TrimRight(p.str(endpoints, "Api", "url", whereURL), "/"), "/api")
	}
	if uaa != nil {
		p.warnUnknown("uaa.", uaa, uaaFields)
		s.AuthenticationServer = p.str(uaa, "url", "authenticationServer", whereAuthServer)
		s.ClientID = p.str(uaa, "clientid", "clientId", whereClientID)
		s.ClientSecret = Secret(p.str(uaa, "clientsecret", "clientSecret", whereSecret))
		s.CredentialType = p.str(uaa, "credential-type", "credentialType", whereCredType)
		s.Certificate = p.str(uaa, "certificate", "certificate", whereCert)
		s.Key = Secret(p.str(uaa, "key", "key", whereKey))
		s.CertURL = p.str(uaa, "certurl", "certUrl", whereCertURL)
	}
	return s
}

func (p *parser) warnUnknown(prefix string, m map[string]json.RawMessage, known []string) {
	var unknown []string
	for k := range m {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		p.warnings = append(p.warnings, fmt.Sprintf("ignored unknown field %q", prefix+k))
	}
}

// str reads a string field, trimmed. A value with spaces or line breaks around it is trimmed
// with a warning naming the field (never the value).
func (p *parser) str(m map[string]json.RawMessage, key, field, where string) string {
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return ""
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		p.problem(field, where, "must be a JSON string")
		return ""
	}
	// encoding/json turns invalid UTF-8 (and lone surrogate escapes) into U+FFFD silently.
	if !utf8.Valid(raw) || strings.ContainsRune(v, utf8.RuneError) {
		p.problem(field, where, "is not valid UTF-8; copy the value from the service key again")
		return ""
	}
	if t := strings.TrimSpace(v); t != v {
		// A PEM block ends with a line break by definition: trimming it is not worth a warning.
		if field != "certificate" && field != "key" {
			p.warnings = append(p.warnings, fmt.Sprintf("%s: removed spaces or line breaks around the value", field))
		}
		v = t
	}
	return v
}

func (p *parser) object(m map[string]json.RawMessage, key, field, where string) map[string]json.RawMessage {
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil {
		p.problem(field, where, fmt.Sprintf("%q must be a JSON object", key))
		return nil
	}
	return v
}

// normalise removes what the setup guide says must not be there, with a warning each.
func (p *parser) normalise(s *Settings) {
	if s.CredentialType == "" {
		s.CredentialType = CredentialBindingSecret
	}
	if s.URL != "" {
		u := strings.TrimRight(s.URL, "/")
		removed := false
		for strings.HasSuffix(u, "/api") {
			u = strings.TrimRight(strings.TrimSuffix(u, "/api"), "/")
			removed = true
		}
		switch {
		case removed:
			p.warnings = append(p.warnings, "url: removed the trailing /api (the url is endpoints.Api without /api; the collector adds /api itself); using "+u)
		case u != s.URL:
			p.warnings = append(p.warnings, "url: removed the trailing slash; using "+u)
		}
		s.URL = u
	}
	s.AuthenticationServer = p.trimTokenPath(s.AuthenticationServer, "authenticationServer")
	s.CertURL = p.trimTokenPath(s.CertURL, "certUrl")
	if s.Name == "" && s.URL != "" {
		s.Name = defaultName(s.URL)
	}
}

func (p *parser) trimTokenPath(v, field string) string {
	if v == "" {
		return v
	}
	u := strings.TrimRight(v, "/")
	removed := false
	for strings.HasSuffix(u, "/oauth/token") {
		u = strings.TrimRight(strings.TrimSuffix(u, "/oauth/token"), "/")
		removed = true
	}
	switch {
	case removed:
		p.warnings = append(p.warnings, field+": removed the trailing /oauth/token (the token endpoint is always {"+field+"}/oauth/token); using "+u)
	case u != v:
		p.warnings = append(p.warnings, field+": removed the trailing slash; using "+u)
	}
	return u
}

// defaultName is the first label of the URL host; an IPv4 address is kept whole, an IPv6
// address becomes "ip6-" with its colons as dashes (e.g. ip6--1 for ::1).
func defaultName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); ip != nil {
		if ip.To4() != nil {
			return h
		}
		return "ip6-" + strings.ReplaceAll(h, ":", "-")
	}
	first, _, _ := strings.Cut(h, ".")
	return first
}
