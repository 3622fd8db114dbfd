package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/calm-collector/calm-collector/internal/loopback"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 64 << 10

// ContentSecurityPolicy is sent with every answer: only the console's own script, style and
// (data:) images; no frames, no foreign form targets.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const (
	csrfCookie = "calm_console_csrf"
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// Listen opens the console's listener. Only loopback addresses are accepted unless force is
// set: the console holds connector secrets and has no login.
func Listen(addr string, force bool) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %q: want HOST:PORT like 127.0.0.1:8080: %w", addr, err)
	}
	if !force && !loopback.Host(host) {
		return nil, fmt.Errorf("--addr %q is not a loopback address: the console has no login and shows and changes connector secrets, "+
			"so it listens on 127.0.0.1 (or ::1, localhost) only; reach it from elsewhere through an SSH tunnel, or add --force-listen if you must", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// hostsFor returns the Host header values that name a listener: its address, and for loopback
// also localhost and the other loopback spellings, on the same port.
func hostsFor(addr net.Addr) []string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return []string{addr.String()}
	}
	hosts := []string{net.JoinHostPort(host, port)}
	if loopback.Host(host) {
		hosts = append(hosts, net.JoinHostPort("localhost", port), net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("::1", port))
	}
	return hosts
}

// guard wraps the console's routes: security headers on every answer, the Host check (DNS
// rebinding), the body limit, and for state-changing methods the same-origin and CSRF checks.
func (c *Console) guard(hosts []string, next http.Handler) http.Handler {
	allowed := map[string]bool{}
	for _, h := range hosts {
		allowed[strings.ToLower(h)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")

		if !allowed[strings.ToLower(r.Host)] {
			c.log.Warn("refused a request for another host", "host", r.Host, "path", r.URL.Path)
			http.Error(w, "this console answers only for "+hosts[0]+" (Host "+r.Host+" refused)", http.StatusMisdirectedRequest)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		default:
			if err := c.sameOrigin(r); err != nil {
				c.log.Warn("refused a state-changing request", "path", r.URL.Path, "reason", err)
				http.Error(w, err.Error(), http.StatusForbidden)
				return
			}
			if err := r.ParseForm(); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					http.Error(w, fmt.Sprintf("the request is larger than %d KiB", MaxBodyBytes>>10), http.StatusRequestEntityTooLarge)
					return
				}
				http.Error(w, "the form could not be read", http.StatusBadRequest)
				return
			}
			if err := checkCSRF(r); err != nil {
				c.log.Warn("refused a state-changing request", "path", r.URL.Path, "reason", err)
				http.Error(w, err.Error()+": reload the page and try again", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin refuses requests a browser marks as coming from another site.
func (c *Console) sameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return fmt.Errorf("request from another site (Sec-Fetch-Site %s) refused", site)
	}
	if origin := r.Header.Get("Origin"); origin != "" && !strings.EqualFold(origin, "http://"+r.Host) && !strings.EqualFold(origin, "https://"+r.Host) {
		return fmt.Errorf("request from origin %s refused", origin)
	}
	return nil
}

// checkCSRF compares the token of the session cookie with the one of the form (or header), in
// constant time.
func checkCSRF(r *http.Request) error {
	ck, err := r.Cookie(csrfCookie)
	if err != nil || len(ck.Value) < 32 {
		return errors.New("missing session token")
	}
	sent := r.Header.Get(csrfHeader)
	if sent == "" {
		sent = r.PostFormValue(csrfField)
	}
	if subtle.ConstantTimeCompare([]byte(sent), []byte(ck.Value)) != 1 {
		return errors.New("missing or wrong anti-CSRF token")
	}
	return nil
}

// session returns the request's anti-CSRF token, issuing a new one (cookie) when it has none.
func session(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 64 {
		return ck.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	//nolint:gosec // G124: no Secure flag: the console serves plain http on loopback only
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return tok
}
