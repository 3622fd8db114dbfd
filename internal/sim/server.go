package sim

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config sets up a Server. The zero value is usable: every field has a default.
type Config struct {
	ClientID     string        // default DefaultClientID
	ClientSecret string        // default DefaultClientSecret
	XSAppName    string        // prefix of granted scopes, default DefaultXSAppName
	Scopes       []string      // granted scope suffixes, e.g. "calm-api.hm.read"; default AllScopes
	Services     int           // number of simulated services, default 6
	TokenTTL     time.Duration // expires_in of issued tokens, default 43199s
	Now          func() time.Time
	Logger       *slog.Logger // default discards
	// NoGzip makes the API answer uncompressed even when the request accepts gzip (a tenant
	// behind a gateway that does not compress). By default answers are gzip'd when asked.
	NoGzip bool
	// NoBinary makes the metrics API refuse format=protobuf-binary with 400, as a tenant
	// without the binary format would.
	NoBinary bool
	// LogsCap is the most log records (or spans) the logs (and traces) API returns without
	// onLimit=truncate (default 1000).
	LogsCap int
	// Strict takes the other reading wherever SAP's material allows two (strict.go): rows
	// paging, a page cap below the asked limit, dimensions and metrics mandatory, a 200 with an
	// error body now and then, logs provider required and a 60-minute logs cap.
	Strict bool
	// Behaviours switches on tenant behaviours that SAP's material allows (behaviours.go).
	Behaviours Behaviours
}

// Defaults of Config.
const (
	DefaultClientID     = "sb-calm-sim!b1|sapcloudalm!b1234"
	DefaultClientSecret = "sim-client-secret" //nolint:gosec // G101: the simulator's own test secret
	DefaultXSAppName    = "sapcloudalm!b1234"
	DefaultTokenTTL     = 43199 * time.Second
)

// Faults switches misbehaviour on. Counted faults (RateLimit, ServerErrors,
// ResetConnections) apply to the next N API requests and then wear off.
type Faults struct {
	WrongCredentials  bool          // the token endpoint rejects every credential
	MissingScopes     []string      // scope suffixes left out of new tokens and refused by the API
	RateLimit         int           // next N API requests get 429
	RetryAfter        string        // Retry-After of those 429s (seconds or HTTP date), default "1"
	ServerErrors      int           // next N API requests get 503
	Slow              time.Duration // every API request waits this long first
	HTMLPage          bool          // the API answers 200 with an HTML login page
	TokenExpiresAfter time.Duration // tokens issued from now on are refused after this (on Config.Now), whatever expires_in says
	RevokeTokens      bool          // every token issued so far is refused from now on (works with a frozen clock)
	ResetConnections  int           // next N API requests get their connection closed without an answer
	RepeatPage        bool          // paged APIs ignore offset: always the first page
	IgnoreLimit       bool          // paged APIs ignore limit and offset: always everything
	GrowTotal         bool          // paged APIs report an ever growing x-total-count and never run dry
	Garbled           bool          // JSON answers are cut in half
}

// Server is the simulator. It is an http.Handler; Start serves it on a loopback listener.
// All methods are safe for concurrent use.
type Server struct {
	cfg      Config
	log      *slog.Logger
	key      []byte // signs tokens
	services []service
	mux      *http.ServeMux

	mu       sync.Mutex
	faults   Faults
	requests map[string]int
	revoked  map[string]time.Time // jti → instant after which the API refuses the token
	issued   []string             // jtis of tokens issued since the last RevokeTokens
	growth   int
	// strictSeen holds the queries of strict metrics requests answered before (strict.go).
	strictSeen map[string]bool

	bytes atomic.Int64
	seq   atomic.Uint64

	srv *http.Server
	url string
	pki *TestPKI
}

// New builds a simulator; call Start to serve it, or use it as an http.Handler.
func New(cfg Config) *Server {
	cfg.ClientID = cmp.Or(cfg.ClientID, DefaultClientID)
	cfg.ClientSecret = cmp.Or(cfg.ClientSecret, DefaultClientSecret)
	cfg.XSAppName = cmp.Or(cfg.XSAppName, DefaultXSAppName)
	if cfg.Scopes == nil {
		cfg.Scopes = AllScopes
	}
	if cfg.Services <= 0 {
		cfg.Services = 6
	}
	if cfg.Behaviours.RUMServiceLimit && cfg.Services <= rumMaxServices {
		cfg.Services = rumMaxServices + 3 // more RUM services than one query may name
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.LogsCap <= 0 {
		cfg.LogsCap = 1000
	}
	key := make([]byte, 32)
	rand.Read(key)
	s := &Server{
		cfg: cfg, log: cfg.Logger, key: key, services: newServices(cfg.Services),
		requests: map[string]int{}, revoked: map[string]time.Time{},
	}
	s.routes()
	return s
}

func (s *Server) now() time.Time { return s.cfg.Now().UTC() }

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("/oauth/token", s.handleToken)
	m.HandleFunc("GET /api/calm-analytics/v1/analytics/providers", s.api(ScopeAnalytics, s.handleProviders))
	m.HandleFunc("POST /api/calm-analytics/v1/analytics/providers/filters", s.api(ScopeAnalytics, s.handleFilters))
	m.HandleFunc("POST /api/calm-analytics/v1/analytics/providers/data", s.api(ScopeAnalytics, s.handleAnalyticsData))
	m.HandleFunc("GET /api/calm-landscape/v1/landscapeObjects", s.api(ScopeLandscape, s.handleLandscape))
	m.HandleFunc("GET /api/calm-metrics/v1/metrics", s.api(ScopeMetrics, s.handleMetrics))
	m.HandleFunc("GET /api/bsm-service/v1/events", s.api(ScopeBSM, s.handleEvents))
	m.HandleFunc("GET /api/calm-logs/v1/logs", s.api("", s.handleLogs))
	m.HandleFunc("GET /api/calm-traces/v1/traces", s.api(ScopeTraces, s.handleTraces))
	m.HandleFunc("/api/", s.api("", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not Found", fmt.Sprintf("no API at %s %s", r.Method, r.URL.Path))
	}))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeHTML(w, http.StatusNotFound, notFoundPage) })
	s.mux = m
}

// ServeHTTP counts the request, stamps x-correlationid and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	s.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w}
	cw.Header().Set("x-correlationid", s.correlationID())
	start := time.Now()
	var w2 http.ResponseWriter = cw
	var gw *gzipWriter
	if strings.HasPrefix(r.URL.Path, "/api/") && !s.cfg.NoGzip && acceptsGzip(r) {
		gw = newGzipWriter(cw)
		w2 = gw
	}
	// The classic doubled base path: the real platform answers with an HTML 404 page.
	if strings.HasPrefix(r.URL.Path, "/api/api/") || r.URL.Path == "/api/api" {
		writeHTML(w2, http.StatusNotFound, notFoundPage)
	} else {
		s.mux.ServeHTTP(w2, r)
	}
	if gw != nil {
		gw.close() // before counting: the end of the gzip stream is part of the answer
	}
	s.bytes.Add(cw.n)
	// Never log the query of the token call or any header: they may carry credentials.
	s.log.Debug("sim request", "method", r.Method, "path", r.URL.Path, "status", cw.status,
		"bytes", cw.n, "duration", time.Since(start))
}

func (s *Server) correlationID() string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%06d", hex.EncodeToString(b[:]), s.seq.Add(1))
}

// SetFaults replaces the active faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.growth = 0
	if f.RevokeTokens {
		for _, jti := range s.issued {
			s.revoked[jti] = time.Time{}
		}
		s.issued = nil
	}
}

// Faults returns the active faults, with counted faults as far as they are used up.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Requests returns how many requests each path received.
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.requests)
}

// BytesServed is the total number of response body bytes written.
func (s *Server) BytesServed() int64 { return s.bytes.Load() }

// ServiceIDs lists the simulated services' ids in their fixed order.
func (s *Server) ServiceIDs() []string {
	out := make([]string, len(s.services))
	for i, svc := range s.services {
		out[i] = svc.ID
	}
	return out
}

// ServiceNames lists the simulated services' names, in the order of ServiceIDs.
func (s *Server) ServiceNames() []string {
	out := make([]string, len(s.services))
	for i, svc := range s.services {
		out[i] = svc.Name
	}
	return out
}

// Start serves the simulator over plain HTTP on addr (e.g. "127.0.0.1:0").
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("start simulator on %s: %w", addr, err)
	}
	s.serve(ln, "http")
	return nil
}

func (s *Server) serve(ln net.Listener, scheme string) {
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.url = scheme + "://" + ln.Addr().String()
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("simulator stopped", "err", err)
		}
	}()
}

// Close stops the listener and every open connection.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// Shutdown stops the listener and waits for running requests (bounded by ctx).
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

// URL is the Cloud ALM base URL without /api, e.g. "http://127.0.0.1:8787" ("" before Start).
func (s *Server) URL() string { return s.url }

// AuthURL is the authentication server (the connector's authenticationServer): the same
// listener as URL; the token endpoint is AuthURL()+"/oauth/token".
func (s *Server) AuthURL() string { return s.url }

// TokenURL is AuthURL()+"/oauth/token".
func (s *Server) TokenURL() string { return s.url + "/oauth/token" }

// countingWriter counts body bytes and remembers the status.
type countingWriter struct {
	http.ResponseWriter
	n      int64
	status int
}

func (c *countingWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (Hijack for ResetConnections).
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// writeError writes the {"error","message"} body the Cloud ALM APIs use.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"error": code, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"Internal Server Error","message":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client is gone: nothing to do
}

// writeOTLP answers an encoded OTLP body (what: metrics, logs, traces), JSON or protobuf, with
// its x-total-count; err is that of the encoding.
func writeOTLP(w http.ResponseWriter, what string, body []byte, err error, asJSON bool, total int) {
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Internal Server Error", "encoding "+what+" failed")
		return
	}
	ctype := "application/x-protobuf"
	if asJSON {
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	setTotal(w, total)
	_, _ = w.Write(body) // the client is gone: nothing to do
}

func writeHTML(w http.ResponseWriter, status int, page string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(page))
}

const notFoundPage = `<!DOCTYPE html>
<html><head><title>404 Not Found</title></head>
<body><h1>Not Found</h1><p>The requested resource could not be found.</p></body></html>
`

const loginPage = `<!DOCTYPE html>
<html><head><title>Log On</title><meta name="viewport" content="width=device-width"></head>
<body><form method="post" action="/saml2/idp/sso"><h1>SAP Cloud ALM</h1>
<label>Email or User Name<input name="j_username"></label>
<label>Password<input type="password" name="j_password"></label>
<button type="submit">Log On</button></form></body></html>
`
