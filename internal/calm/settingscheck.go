package calm

import (
	"crypto/tls"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/calm-collector/calm-collector/internal/loopback"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// problems checks every rule and returns every problem.
func (s Settings) problems() []Problem {
	var ps []Problem
	add := func(field, where, msg string) {
		ps = append(ps, Problem{Field: field, Where: where, Message: msg})
	}
	switch {
	case s.Name == "":
		add("name", whereName, "is missing and cannot be derived from the url; set a short name for this tenant")
	case !nameRE.MatchString(s.Name):
		add("name", whereName, "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if msg := checkURL(s.URL); msg != "" {
		add("url", whereURL, msg)
	} else if strings.HasSuffix(s.URL, "/api") || strings.HasSuffix(s.URL, "/") {
		add("url", whereURL, "must not end with /api or a slash; use the endpoints.Api value without /api")
	}
	if s.ClientID == "" {
		add("clientId", whereClientID, "is missing; copy uaa.clientid from the service key")
	}
	switch s.CredentialType {
	case "", CredentialBindingSecret:
		if msg := checkURL(s.AuthenticationServer); msg != "" {
			add("authenticationServer", whereAuthServer, msg)
		} else if strings.HasSuffix(s.AuthenticationServer, "/oauth/token") || strings.HasSuffix(s.AuthenticationServer, "/") {
			add("authenticationServer", whereAuthServer, "must not end with /oauth/token or a slash; use the uaa.url value")
		}
		if !s.ClientSecret.IsSet() {
			add("clientSecret", whereSecret, "is missing; copy uaa.clientsecret from the service key, or create a new service key if it was not kept")
		}
	case CredentialX509:
		if s.AuthenticationServer != "" {
			if msg := checkURL(s.AuthenticationServer); msg != "" {
				add("authenticationServer", whereAuthServer, msg)
			}
		}
		if msg := checkURL(s.CertURL); msg != "" {
			add("certUrl", whereCertURL, msg)
		}
		certOK, keyOK := true, true
		if s.Certificate == "" {
			add("certificate", whereCert, "is missing; an x509 service key carries the client certificate in uaa.certificate")
			certOK = false
		}
		if !s.Key.IsSet() {
			add("key", whereKey, "is missing; an x509 service key carries the private key in uaa.key")
			keyOK = false
		}
		if certOK && keyOK {
			if _, err := tls.X509KeyPair([]byte(s.Certificate), []byte(s.Key.Reveal())); err != nil {
				// crypto/tls errors describe the PEM structure, never the key material.
				add("certificate", whereCert, fmt.Sprintf("certificate and key do not form a usable pair (%v); copy both from the same service key", err))
			}
		}
	default:
		add("credentialType", whereCredType, fmt.Sprintf("is %q; it must be %q or %q", s.CredentialType, CredentialBindingSecret, CredentialX509))
	}
	return ps
}

// checkURL returns what is wrong with an https URL setting, or "".
func checkURL(raw string) string {
	if raw == "" {
		return "is missing"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "is not an absolute URL; it must look like https://host"
	}
	if u.User != nil {
		return "must not contain a user name or password"
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "must not contain a query or fragment"
	}
	if u.Scheme == "http" && !loopback.Host(u.Hostname()) {
		return "must use https (http is allowed only for loopback hosts: localhost, 127.0.0.0/8, ::1)"
	}
	return checkHost(u)
}

// hostLabelRE is one label of a DNS host name (underscores occur in real names and are let through).
var hostLabelRE = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$`)

// checkHost returns what is wrong with the port or host name of a URL setting, or "".
func checkHost(u *url.URL) string {
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			if len(p) > 10 {
				p = p[:10] + "…"
			}
			return fmt.Sprintf("has port %s; a port is a number from 1 to 65535", p)
		}
	}
	h := u.Hostname()
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	if !utf8.ValidString(h) {
		return "has a host name that is not valid UTF-8; copy the value from the service key again"
	}
	if len(h) > 253 {
		return fmt.Sprintf("has a host name of %d characters; a DNS name has at most 253", len(h))
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		switch {
		case label == "" || len(label) > 63:
			return "has a host name with an empty label or a label longer than 63 characters; copy the host from the service key"
		case !hostLabelRE.MatchString(label):
			return "has a host name with characters other than letters, digits, '-' and '.'; copy the host from the service key"
		}
	}
	return ""
}
