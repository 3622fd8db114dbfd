package transcript

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Redacted replaces a secret value in a transcript.
const Redacted = "[redacted]"

// minSecret is the shortest value cut out as a secret: shorter ones would cut ordinary words.
const minSecret = 4

// maxInflate bounds the decompressed size of a body the redactor looks into.
const maxInflate = 256 << 20

// secretHeaders are the headers whose values never reach a transcript (compared canonically).
var secretHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}

// secretFormKeys are the form fields whose values never reach a transcript (token requests).
var secretFormKeys = []string{"client_secret", "password", "client_assertion", "assertion", "refresh_token"}

// tokenKeys are the fields of a token answer that hold tokens.
var tokenKeys = []string{"access_token", "refresh_token", "id_token"}

// pemBlock is any PEM block (private keys, certificates), cut out wherever it appears.
var pemBlock = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----`)

// redactor holds what a transcript must not show and applies it to every part of an exchange.
type redactor struct {
	mu       sync.Mutex
	secrets  []string          // values cut out as Redacted
	tokens   map[string]string // token → its placeholder
	names    []string          // service names, longest first
	pseudo   map[string]string // service name → pseudonym of the same length
	replacer *strings.Replacer
	key      []byte // keys the pseudonyms: random per transcript, never written
}

func newRedactor(secrets, services []string) *redactor {
	r := &redactor{tokens: map[string]string{}, pseudo: map[string]string{}, key: make([]byte, 32)}
	_, _ = rand.Read(r.key)
	r.addSecrets(secrets...)
	for _, n := range services {
		if n = strings.TrimSpace(n); n != "" && r.pseudo[n] == "" {
			r.pseudo[n] = r.pseudonym(n)
			r.names = append(r.names, n)
		}
	}
	slices.SortFunc(r.names, func(a, b string) int { return len(b) - len(a) })
	r.rebuild()
	return r
}

// pseudonym is a stable stand-in of the same byte length for a service name, so that a
// protobuf body keeps its framing when the name is replaced in it.
func (r *redactor) pseudonym(name string) string {
	for i := 0; ; i++ {
		m := hmac.New(sha256.New, r.key)
		fmt.Fprintf(m, "%d\x00%s", i, name)
		h := hex.EncodeToString(m.Sum(nil))
		for len(h) < len(name) {
			h += h
		}
		p := h[:len(name)]
		if len(name) >= 4 {
			p = "svc" + h[:len(name)-3]
		}
		if p != name && !slices.Contains(slices.Collect(maps.Values(r.pseudo)), p) {
			return p
		}
	}
}

func (r *redactor) addSecrets(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if len(v) >= minSecret && !slices.Contains(r.secrets, v) {
			r.secrets = append(r.secrets, v)
		}
	}
	r.rebuildLocked()
}

func (r *redactor) rebuild() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rebuildLocked()
}

// rebuildLocked makes the one replacer of every secret, token and name, in the forms they
// take in a form body or JSON too; longer values first, so that a value is never cut by a
// shorter one it contains.
func (r *redactor) rebuildLocked() {
	type pair struct{ old, new string }
	var pairs []pair
	add := func(old, new string) {
		for _, o := range []string{old, url.QueryEscape(old), jsonEscape(old)} {
			if o != "" && !slices.ContainsFunc(pairs, func(p pair) bool { return p.old == o }) {
				pairs = append(pairs, pair{o, new})
			}
		}
	}
	for tok, ph := range r.tokens {
		add(tok, ph)
	}
	for _, s := range r.secrets {
		add(s, Redacted)
	}
	for _, n := range r.names {
		pairs = append(pairs, pair{n, r.pseudo[n]})
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return len(b.old) - len(a.old) })
	args := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		args = append(args, p.old, p.new)
	}
	r.replacer = strings.NewReplacer(args...)
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// text applies every rule to a text: secrets and tokens, PEM blocks, service names.
func (r *redactor) text(s string) string {
	r.mu.Lock()
	rep := r.replacer
	r.mu.Unlock()
	return pemBlock.ReplaceAllString(rep.Replace(s), Redacted)
}

// secretIn reports whether s still holds a secret or token (after names are replaced, before
// the rest).
func (r *redactor) secretIn(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pemBlock.MatchString(s) {
		return true
	}
	for _, v := range r.secrets {
		if strings.Contains(s, v) || strings.Contains(s, url.QueryEscape(v)) || strings.Contains(s, jsonEscape(v)) {
			return true
		}
	}
	for tok := range r.tokens {
		if strings.Contains(s, tok) {
			return true
		}
	}
	return false
}

// header returns a redacted copy of h.
func (r *redactor) header(h http.Header) http.Header {
	if len(h) == 0 {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		for _, v := range vs {
			if slices.Contains(secretHeaders, http.CanonicalHeaderKey(k)) {
				v = r.authorization(v)
			} else {
				v = r.text(v)
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

// authorization keeps a bearer token's placeholder (so that a replay can check which token a
// request carried) and nothing else of any credential header.
func (r *redactor) authorization(v string) string {
	scheme, cred, _ := strings.Cut(v, " ")
	r.mu.Lock()
	defer r.mu.Unlock()
	if strings.EqualFold(scheme, "bearer") {
		if ph, ok := r.tokens[strings.TrimSpace(cred)]; ok {
			return "Bearer " + ph
		}
		return "Bearer " + Redacted
	}
	if scheme != "" && cred != "" {
		return scheme + " " + Redacted
	}
	return Redacted
}

// form redacts the secret fields of a form body.
func (r *redactor) form(body []byte) []byte {
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return []byte(Redacted)
	}
	for _, k := range secretFormKeys {
		if q.Has(k) {
			q.Set(k, Redacted)
		}
	}
	return []byte(r.text(q.Encode()))
}

// query redacts a query string, names in its values included.
func (r *redactor) query(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return r.text(raw)
	}
	changed := false
	for k, vs := range q {
		for i, v := range vs {
			if nv := r.text(v); nv != v {
				vs[i], changed = nv, true
			}
		}
		q[k] = vs
	}
	if !changed {
		return r.text(raw)
	}
	return q.Encode()
}

// tokenAnswer learns the tokens of a token answer and replaces them by placeholders; a body
// that is not a JSON object is returned as it is.
func (r *redactor) tokenAnswer(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	changed := false
	for _, k := range tokenKeys {
		var tok string
		if json.Unmarshal(m[k], &tok) != nil || tok == "" {
			continue
		}
		ph := r.placeholder(tok)
		m[k], _ = json.Marshal(ph)
		changed = true
	}
	if !changed {
		return body
	}
	out, err := json.Marshal(m)
	if err != nil {
		return []byte(Redacted)
	}
	return out
}

// placeholder returns the stand-in of a token, making one the first time: an unsigned JWT
// with only the token's scope claim when the token is a JWT with one (the collector reads the
// granted scopes from it when the answer has no "scope"), else "redacted-token-N".
func (r *redactor) placeholder(tok string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ph, ok := r.tokens[tok]; ok {
		return ph
	}
	n := len(r.tokens) + 1
	ph := fmt.Sprintf("redacted-token-%d", n)
	if scope := ScopeClaim(tok); scope != nil {
		enc := base64.RawURLEncoding
		payload, _ := json.Marshal(map[string]any{"scope": scope, "transcript": ph})
		ph = enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(payload) + "." + ph
	}
	r.tokens[tok] = ph
	r.rebuildLocked()
	return ph
}

// ScopeClaim is the "scope" claim of a JWT as it stands (a list or a space-separated string),
// read without a signature check; nil when tok is not a JWT or has none. The redaction keeps it
// in a token's placeholder, and calm's token source reads what was granted from it.
func ScopeClaim(tok string) json.RawMessage {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var claims struct {
		Scope json.RawMessage `json:"scope"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return nil
	}
	return claims.Scope
}

// body redacts a body. raw is kept byte for byte unless something in it must change: then a
// gzip'd body is compressed again after service names are replaced ("service names"), and a
// body that held a secret is stored decoded with the secret cut out ("secret"); h (the body's
// header, already copied) loses its Content-Encoding and Content-Length where the bytes change.
func (r *redactor) body(raw []byte, h http.Header) (out []byte, rewritten string) {
	plain, zipped := inflate(raw, h)
	s := string(plain)
	if r.secretIn(s) {
		h.Del("Content-Encoding")
		h.Del("Content-Length")
		return []byte(r.text(s)), "secret"
	}
	red := r.text(s)
	if red == s {
		return raw, ""
	}
	h.Del("Content-Length")
	if zipped {
		return deflate([]byte(red)), "service names"
	}
	return []byte(red), "service names"
}

// inflate returns a gzip'd body decoded (and true), any other body as it is.
func inflate(raw []byte, h http.Header) ([]byte, bool) {
	if !strings.EqualFold(h.Get("Content-Encoding"), "gzip") && !bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		return raw, false
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return raw, false
	}
	b, err := io.ReadAll(io.LimitReader(zr, maxInflate))
	if err != nil {
		return raw, false
	}
	return b, true
}

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b) // a bytes.Buffer does not fail
	_ = zw.Close()
	return buf.Bytes()
}
