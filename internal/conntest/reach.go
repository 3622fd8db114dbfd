package conntest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// hostRef is one host the settings name, with the setting it comes from.
type hostRef struct {
	role   string // "auth" or "api"
	field  string // settings field, e.g. "authenticationServer"
	where  string // where the value is in the service key
	scheme string
	host   string
	port   string
}

// hosts returns the hosts the settings name: the token endpoint's (authenticationServer, or
// certUrl for x509, where authenticationServer is checked too when set) and the API's.
func (t *tester) hosts() []hostRef {
	s := t.settings
	var refs []hostRef
	add := func(role, field, where, raw string) {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			return
		}
		port := u.Port()
		if port == "" {
			port = "443"
			if u.Scheme == "http" {
				port = "80"
			}
		}
		refs = append(refs, hostRef{role: role, field: field, where: where, scheme: u.Scheme, host: u.Hostname(), port: port})
	}
	if s.IsX509() {
		add("auth", "certUrl", "uaa.certurl", s.CertURL)
		if s.AuthenticationServer != "" {
			add("uaa", "authenticationServer", "uaa.url", s.AuthenticationServer)
		}
	} else {
		add("auth", "authenticationServer", "uaa.url", s.AuthenticationServer)
	}
	add("api", "url", "endpoints.Api", s.URL)
	return refs
}

// checkReach resolves, connects to and (for https) shakes hands with the token host and the
// API host, reporting each with its timings.
func (t *tester) checkReach(ctx context.Context) Check {
	if t.noSettings != "" {
		t.noAuthHost, t.noAPIHost = t.noSettings, t.noSettings
		return skip(t.noSettings)
	}
	var details, hints []string
	failed := false
	seen := map[string]string{}
	for _, h := range t.hosts() {
		if h.role == "uaa" {
			continue // x509 tokens come from certUrl; uaa.url is not contacted
		}
		key := h.scheme + "://" + net.JoinHostPort(h.host, h.port)
		if prev, ok := seen[key]; ok {
			details = append(details, fmt.Sprintf("%s %s: same host as %s", h.role, net.JoinHostPort(h.host, h.port), prev))
			if prev == "auth" && t.noAuthHost != "" && h.role == "api" {
				t.noAPIHost = "needs the API host to be reachable"
			}
			continue
		}
		seen[key] = h.role
		detail, hint, err := t.reachHost(ctx, h)
		details = append(details, detail)
		if err != nil {
			failed = true
			hints = append(hints, hint)
			if h.role == "auth" {
				t.noAuthHost = "needs the authentication server to be reachable"
			} else {
				t.noAPIHost = "needs the API host to be reachable"
			}
		}
	}
	c := Check{Status: Pass, Detail: strings.Join(details, "; ")}
	if failed {
		c.Status, c.Hint = Fail, strings.Join(hints, " ")
	}
	return c
}

// reachHost tests one host: DNS, TCP and TLS, each timed. detail describes what happened;
// on failure hint says what to do.
func (t *tester) reachHost(ctx context.Context, h hostRef) (detail, hint string, err error) {
	hostport := net.JoinHostPort(h.host, h.port)
	prefix := h.role + " " + hostport + ": "
	var steps []string
	fail := func(step string, err error, hint string) (string, string, error) {
		steps = append(steps, step+" failed: "+errText(err))
		return prefix + strings.Join(steps, ", "), hint, err
	}

	// DNS
	var addrs []netip.Addr
	if ip, perr := netip.ParseAddr(h.host); perr == nil {
		addrs = []netip.Addr{ip}
	} else {
		start := time.Now()
		addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", h.host)
		if err != nil {
			return fail("dns", err, fmt.Sprintf("the host %s does not resolve: check the %s setting (%s from the service key); "+
				"where the collector runs in a VPC, check its DNS resolution.", h.host, h.field, h.where))
		}
		steps = append(steps, fmt.Sprintf("dns %d ms (%d addresses)", ms(start), len(addrs)))
	}
	if allow := t.opts.AllowAddr; allow != nil {
		var ok []netip.Addr
		var refused error
		for _, a := range addrs {
			if err := allow(a); err != nil {
				refused = err
				continue
			}
			ok = append(ok, a)
		}
		if len(ok) == 0 {
			return fail("address check", refused, fmt.Sprintf("%s resolves only to addresses the connection test may not contact: "+
				"settings sent for testing must point at public SAP hosts (%s from the service key).", h.host, h.where))
		}
		addrs = ok
	}

	// TCP: the first address that answers.
	start := time.Now()
	var conn net.Conn
	d := net.Dialer{}
	for _, a := range addrs {
		conn, err = d.DialContext(ctx, "tcp", netip.AddrPortFrom(a, portNum(h.port)).String())
		if err == nil {
			break
		}
	}
	if err != nil {
		return fail("tcp", err, fmt.Sprintf("cannot connect to %s: check the %s setting (%s from the service key), and that the collector "+
			"has outbound internet access to SAP (a NAT gateway when the Lambda runs in a VPC; a proxy or firewall may block it).", hostport, h.field, h.where))
	}
	defer conn.Close()
	steps = append(steps, fmt.Sprintf("tcp %d ms (%s)", ms(start), conn.RemoteAddr()))

	// TLS
	if h.scheme != "https" {
		steps = append(steps, "no TLS (plain http, allowed on loopback only)")
		return prefix + strings.Join(steps, ", "), "", nil
	}
	cfg := t.tlsConfig(h)
	start = time.Now()
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fail("tls", err, fmt.Sprintf("the TLS handshake with %s failed: check the %s setting (%s from the service key); a proxy that "+
			"intercepts TLS needs its CA trusted.", hostport, h.field, h.where))
	}
	st := tc.ConnectionState()
	steps = append(steps, fmt.Sprintf("tls %d ms (%s)", ms(start), tls.VersionName(st.Version)))
	return prefix + strings.Join(steps, ", "), "", nil
}

// tlsConfig is the HTTP client's TLS configuration (so that a test's or proxy's roots apply)
// with the host's server name; for the x509 token host it carries the client certificate.
func (t *tester) tlsConfig(h hostRef) *tls.Config {
	var cfg *tls.Config
	if t.hc != nil {
		if tr, ok := t.hc.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
			cfg = tr.TLSClientConfig.Clone()
		}
	}
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	cfg.ServerName = h.host
	cfg.NextProtos = nil
	if h.role == "auth" && t.settings.IsX509() && len(cfg.Certificates) == 0 {
		if pair, err := tls.X509KeyPair([]byte(t.settings.Certificate), []byte(t.settings.Key.Reveal())); err == nil {
			cfg.Certificates = []tls.Certificate{pair}
		}
	}
	return cfg
}

func ms(start time.Time) int64 { return time.Since(start).Milliseconds() }

func portNum(p string) uint16 {
	n, _ := strconv.ParseUint(p, 10, 16)
	return uint16(n)
}

// errText is a network error without the operation noise ("dial tcp 1.2.3.4:443: connect:
// connection refused" → "connection refused"), keeping timeouts and DNS reasons readable.
func errText(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "no such host"
		}
		return dnsErr.Err
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && !strings.Contains(msg[i:], "certificate") {
		return msg[i+2:]
	}
	return msg
}
