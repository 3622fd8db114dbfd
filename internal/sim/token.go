package sim

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// claims is the payload of the simulator's access tokens, shaped like XSUAA's.
type claims struct {
	JTI       string         `json:"jti"`
	Sub       string         `json:"sub"`
	ClientID  string         `json:"client_id"`
	CID       string         `json:"cid"`
	AZP       string         `json:"azp"`
	GrantType string         `json:"grant_type"`
	Scope     []string       `json:"scope"`
	Aud       []string       `json:"aud"`
	ISS       string         `json:"iss"`
	ZID       string         `json:"zid"`
	IAT       int64          `json:"iat"`
	EXP       int64          `json:"exp"`
	ExtAttr   map[string]any `json:"ext_attr"`
}

// handleToken is the XSUAA token endpoint: POST /oauth/token with
// grant_type=client_credentials and the client in the form body, in HTTP Basic, or (mTLS)
// client_id in the form plus a verified client certificate.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed", "error_description": "Request method '" + r.Method + "' not supported"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "malformed form body"})
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": fmt.Sprintf("Unsupported grant type: %s", gt)})
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok && id == "" && secret == "" {
		// XSUAA does not URL-decode Basic credentials: golang.org/x/oauth2's header style
		// (which escapes "!" and "|") fails here, as it does against the real service.
		id, secret = bid, bsecret
	}
	f := s.Faults()
	if id == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "error_description": "Full authentication is required to access this resource"})
		return
	}
	ok := equal(id, s.cfg.ClientID) && (equal(secret, s.cfg.ClientSecret) || (secret == "" && s.verifiedClientCert(r)))
	if !ok || f.WrongCredentials {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Bad credentials"})
		return
	}
	scopes := s.grantedScopes(f)
	now := s.now()
	c := claims{
		JTI: randomHex(16), Sub: id, ClientID: id, CID: id, AZP: id, GrantType: "client_credentials",
		Scope: scopes, Aud: []string{"uaa", s.cfg.XSAppName}, ISS: s.TokenURL(), ZID: "sim-zone",
		IAT: now.Unix(), EXP: now.Add(s.cfg.TokenTTL).Unix(),
		ExtAttr: map[string]any{"enhancer": "XSUAA", "subaccountid": "sim-zone"},
	}
	s.mu.Lock()
	s.issued = append(s.issued, c.JTI)
	if f.TokenExpiresAfter > 0 {
		s.revoked[c.JTI] = now.Add(f.TokenExpiresAfter)
	}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": s.sign(c), "token_type": "bearer", "expires_in": int64(s.cfg.TokenTTL / time.Second),
		"scope": strings.Join(scopes, " "), "jti": c.JTI,
	})
}

// grantedScopes are the full scope names of a new token: configured minus MissingScopes.
func (s *Server) grantedScopes(f Faults) []string {
	out := []string{"uaa.resource"}
	for _, sc := range s.cfg.Scopes {
		if !slices.Contains(f.MissingScopes, sc) {
			out = append(out, s.cfg.XSAppName+"."+sc)
		}
	}
	return out
}

func (s *Server) verifiedClientCert(r *http.Request) bool {
	return r.TLS != nil && len(r.TLS.VerifiedChains) > 0
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

var b64 = base64.RawURLEncoding

func (s *Server) sign(c claims) string {
	head, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": "calm-sim"})
	body, _ := json.Marshal(c)
	unsigned := b64.EncodeToString(head) + "." + b64.EncodeToString(body)
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(unsigned))
	return unsigned + "." + b64.EncodeToString(m.Sum(nil))
}

var errBadToken = errors.New("invalid token")

// verify checks signature, expiry and revocation and returns the token's claims.
func (s *Server) verify(tok string) (claims, error) {
	var c claims
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || strings.Count(tok, ".") != 2 {
		return c, errBadToken
	}
	sig, err := b64.DecodeString(tok[i+1:])
	if err != nil {
		return c, errBadToken
	}
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(tok[:i]))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return c, errBadToken
	}
	body, err := b64.DecodeString(tok[strings.IndexByte(tok, '.')+1 : i])
	if err != nil || json.NewDecoder(bytes.NewReader(body)).Decode(&c) != nil {
		return c, errBadToken
	}
	now := s.now()
	if now.Unix() >= c.EXP {
		return c, errors.New("token expired")
	}
	s.mu.Lock()
	until, revoked := s.revoked[c.JTI]
	s.mu.Unlock()
	if revoked && !now.Before(until) {
		return c, errors.New("token expired")
	}
	return c, nil
}

// hasScope reports whether the token grants the scope suffix (and the fault does not
// take it away).
func (s *Server) hasScope(c claims, suffix string, f Faults) bool {
	if slices.Contains(f.MissingScopes, suffix) {
		return false
	}
	return slices.ContainsFunc(c.Scope, func(sc string) bool { return strings.HasSuffix(sc, "."+suffix) })
}

// api wraps an API handler: faults first (as a gateway in front of the service would),
// then the bearer token and the scope.
func (s *Server) api(scope string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, fault := s.takeFault()
		switch fault {
		case faultReset:
			resetConnection(w)
			return
		case faultServerError:
			writeError(w, http.StatusServiceUnavailable, "Service Unavailable", "the service is temporarily unavailable")
			return
		case faultRateLimit:
			w.Header().Set("Retry-After", cmp.Or(f.RetryAfter, "1"))
			writeError(w, http.StatusTooManyRequests, "Too Many Requests", "rate limit exceeded")
			return
		}
		if f.Slow > 0 {
			t := time.NewTimer(f.Slow)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if f.HTMLPage {
			writeHTML(w, http.StatusOK, loginPage)
			return
		}
		auth := r.Header.Get("Authorization")
		if len(auth) < 7 || !strings.EqualFold(auth[:7], "bearer ") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="calm-api"`)
			writeError(w, http.StatusUnauthorized, "Unauthorized", "Full authentication is required to access this resource")
			return
		}
		c, err := s.verify(strings.TrimSpace(auth[7:]))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid_token", err.Error())
			return
		}
		if scope != "" && !s.hasScope(c, scope, f) {
			writeError(w, http.StatusForbidden, "Forbidden", "Missing scope "+scope)
			return
		}
		r = r.WithContext(withToken(r.Context(), tokenInfo{claims: c, faults: f}))
		if f.Garbled {
			gw := &garbleWriter{ResponseWriter: w}
			h(gw, r)
			gw.flush()
			return
		}
		h(w, r)
	}
}

type faultKind int

const (
	faultNone faultKind = iota
	faultReset
	faultServerError
	faultRateLimit
)

// takeFault returns the faults and uses up one counted fault, if any is left.
func (s *Server) takeFault() (Faults, faultKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	switch {
	case s.faults.ResetConnections > 0:
		s.faults.ResetConnections--
		return f, faultReset
	case s.faults.ServerErrors > 0:
		s.faults.ServerErrors--
		return f, faultServerError
	case s.faults.RateLimit > 0:
		s.faults.RateLimit--
		return f, faultRateLimit
	}
	return f, faultNone
}

// resetConnection closes the connection without an answer.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 or a recorder: abort the handler, which resets the stream.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// garbleWriter buffers a response and writes only its first half.
type garbleWriter struct {
	http.ResponseWriter
	buf    bytes.Buffer
	status int
}

func (g *garbleWriter) WriteHeader(code int) { g.status = code }

func (g *garbleWriter) Write(b []byte) (int, error) { return g.buf.Write(b) }

func (g *garbleWriter) flush() {
	if g.status == 0 {
		g.status = http.StatusOK
	}
	b := g.buf.Bytes()
	b = b[:len(b)/2]
	g.ResponseWriter.Header().Set("Content-Length", fmt.Sprint(len(b)))
	g.ResponseWriter.WriteHeader(g.status)
	_, _ = g.ResponseWriter.Write(b) // the cut answer is the fault; a write error changes nothing
}
