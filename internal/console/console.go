package console

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/state"
)

//go:embed assets
var assets embed.FS

// StateReader is what the status view reads from the state store; internal/state's stores
// satisfy it.
type StateReader interface {
	List(ctx context.Context, tenant string) ([]state.Checkpoint, error)
}

// Config sets up a Console.
type Config struct {
	// Connectors is where connector secrets are kept; required unless Remote is set.
	Connectors Connectors
	// Remote, when set, runs tests and saves through a deployed testconn function URL.
	Remote *Remote
	// State is the checkpoint store of the status view (nil: no checkpoints shown), described
	// for the page by StateName.
	State     StateReader
	StateName string
	// Records is the NDJSON records file the status view counts ("" or missing: no charts).
	Records string
	// Tenants are shown in the status view besides the stored connectors' names and the tenants
	// found in Records (a DynamoDB store cannot list its tenants).
	Tenants []string
	// Monitors are the monitors the connection test probes (empty: the table's defaults) and
	// "Collect now" collects (empty: "auto", every monitor whose scope the token grants).
	Monitors []string
	// Extra are monitors given as data (monitor.Definition): the connection test probes and
	// lists them, "Collect now" collects them, like the built-in ones.
	Extra []monitor.Monitor
	// OpenStore opens the state store "Collect now" writes checkpoints and the tenant lease to
	// (nil: no "Collect now"). It is called for each run; the console writes state through that
	// action only. "Collect now" also needs Connectors and Records (appended to as NDJSON).
	OpenStore func(ctx context.Context) (collect.Store, error)
	// CollectTimeout bounds one "Collect now" run (0: DefaultCollectTimeout).
	CollectTimeout time.Duration
	// Owner names the console's runs in the tenant lease ("": DefaultOwner).
	Owner string
	// Resolution is the window of the status charts (default 5m, the collector's default).
	Resolution time.Duration
	// Schedule is the time between scheduled collections (default 5m, the stack's default):
	// the status view colours each lag against it.
	Schedule time.Duration
	// TestTimeout bounds each check (0: conntest.DefaultTimeout).
	TestTimeout time.Duration
	// HTTPClient is used by local connection tests (nil: conntest builds one).
	HTTPClient *http.Client
	// Now is the clock of the status view and of "Collect now"'s windows (nil: time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Console is the local web console.
type Console struct {
	cfg     Config
	log     *slog.Logger
	pages   *template.Template
	records *recordCounts
	static  http.Handler

	mu         sync.Mutex
	collecting map[string]bool // tenants a "Collect now" run is collecting
}

// New builds a console from cfg.
func New(cfg Config) (*Console, error) {
	if cfg.Connectors == nil && cfg.Remote == nil {
		return nil, errors.New("console: no connectors: give a connectors directory, secret files or secret ids, or a function URL")
	}
	if cfg.Resolution <= 0 {
		cfg.Resolution = 5 * time.Minute
	}
	if cfg.Schedule <= 0 {
		cfg.Schedule = 5 * time.Minute
	}
	if cfg.Resolution > chartSpan || chartSpan%cfg.Resolution != 0 {
		return nil, fmt.Errorf("console: resolution %s does not divide a day into windows: use 1m, 5m, 10m, 15m, 30m, 1h or 24h", cfg.Resolution)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CollectTimeout <= 0 {
		cfg.CollectTimeout = DefaultCollectTimeout
	}
	cfg.Owner = cmp.Or(cfg.Owner, DefaultOwner)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := template.New("").Funcs(funcs).ParseFS(assets, "assets/*.html")
	if err != nil {
		return nil, fmt.Errorf("console: parse the page templates: %w", err)
	}
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		return nil, fmt.Errorf("console: static assets: %w", err)
	}
	c := &Console{cfg: cfg, log: cfg.Logger, pages: pages, static: http.StripPrefix("/static/", http.FileServerFS(static)),
		collecting: map[string]bool{}}
	if cfg.Records != "" {
		c.records = newRecordCounts(cfg.Records, cfg.Resolution)
	}
	return c, nil
}

// Handler returns the console's HTTP handler answering only for the given Host header values
// (the listen address; see Serve).
func (c *Console) Handler(hosts ...string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", c.handleIndex)
	mux.HandleFunc("POST /test", c.handleTest)
	mux.HandleFunc("POST /save", c.handleSave)
	mux.HandleFunc("POST /collect", c.handleCollect)
	mux.HandleFunc("GET /status", c.handleStatus)
	mux.Handle("GET /static/", c.static)
	return c.guard(hosts, c.logRequests(mux))
}

// Serve answers on ln until ctx is done, then shuts down gracefully.
func (c *Console) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           c.Handler(hostsFor(ln.Addr())...),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// A connection test runs several checks, each bounded by its timeout.
		WriteTimeout:   5 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 32 << 10,
		ErrorLog:       slog.NewLogLogger(c.log.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("console: serve: %w", err)
	case <-ctx.Done():
		// Requests in flight get a grace period. A browser's preconnected socket that never sent
		// a request counts as active for up to 5 s in net/http: what is still open after the
		// grace period is closed, which is no error for a console that is asked to stop.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		if errors.Is(err, context.DeadlineExceeded) {
			c.log.Debug("closing connections still open after the shutdown grace period")
			err = srv.Close()
		}
		<-done //nolint:errcheck // after Shutdown, Serve returns http.ErrServerClosed
		return err
	}
}

// logRequests logs method, path and status: never a form value.
func (c *Console) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		c.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", time.Since(start).Milliseconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// ---- pages

// page is what every page template gets.
type page struct {
	CSRF       string
	Active     string // "connectors" or "status"
	Remote     string // the function URL in remote mode
	Connectors []summary
	ListError  string
	CanAdd     bool
	Form       formView
	Result     *resultView
	Status     *statusView
	// Collect is the "Collect now" box of the open connector (nil: none).
	Collect *collectBox
}

// formView is the form as shown: never the client secret, only whether one is stored.
type formView struct {
	Key, Name, AuthenticationServer, ClientID, URL, FnConnector string
	Where, Problem                                              string
	SecretSet                                                   bool
}

// form is the form of a stored connector as the page opens it.
func (s summary) form() formView {
	return formView{Key: s.Key, Name: s.Settings.Name, AuthenticationServer: s.Settings.AuthenticationServer,
		ClientID: s.Settings.ClientID, URL: s.Settings.URL, SecretSet: s.SecretSet, Where: s.Where, Problem: s.Problem}
}

func (c *Console) basePage(w http.ResponseWriter, r *http.Request, active string) page {
	p := page{CSRF: session(w, r), Active: active}
	if c.cfg.Remote != nil {
		p.Remote = c.cfg.Remote.URL
	}
	var err error
	if p.Connectors, err = c.summaries(r.Context()); err != nil {
		p.ListError = err.Error()
	}
	if c.cfg.Connectors != nil {
		_, _, err := c.cfg.Connectors.Create("probe")
		p.CanAdd = err == nil
	}
	return p
}

func (c *Console) handleIndex(w http.ResponseWriter, r *http.Request) {
	p := c.basePage(w, r, "connectors")
	if key := r.URL.Query().Get("c"); key != "" && c.cfg.Connectors != nil {
		if _, ok := c.cfg.Connectors.Source(key); !ok {
			http.Error(w, "no connector "+key, http.StatusNotFound)
			return
		}
		p.Form = c.summary(r.Context(), key).form()
		p.Collect = c.collectBox(p.CSRF, key)
	}
	c.render(w, "index", p, nil)
}

func (c *Console) handleTest(w http.ResponseWriter, r *http.Request) { c.run(w, r, c.test) }
func (c *Console) handleSave(w http.ResponseWriter, r *http.Request) { c.run(w, r, c.save) }

// run answers a test or save: the result fragment for the page's script, or the whole page
// when the form was posted without it.
func (c *Console) run(w http.ResponseWriter, r *http.Request, do func(context.Context, form) (outcome, []string, error)) {
	f := readForm(r)
	o, scrub, err := do(r.Context(), f)
	scrub = append(scrub, f.ClientSecret)
	scrub = append(scrub, calm.SecretValues([]byte(f.ServiceKey))...)
	rv := newResultView(o, err)
	if o.Report != nil {
		c.log.Info("connection test", "connector", o.Report.Connector, "ok", o.Report.OK, "failed", o.Report.Failed(),
			"saved", o.Saved != nil && *o.Saved, "ms", o.Report.DurationMs)
	}
	if r.Header.Get("X-Console-Fragment") != "" {
		// A new connector just saved gets its "Collect now" here: the page has none yet.
		if f.Key == "" && o.Key != "" {
			rv.Collect = c.collectBox(session(w, r), o.Key)
		}
		c.render(w, "result", rv, scrub)
		return
	}
	p := c.basePage(w, r, "connectors")
	key := cmp.Or(o.Key, f.Key)
	p.Form = formView{Key: key, Name: f.Name, AuthenticationServer: f.AuthenticationServer, ClientID: f.ClientID,
		URL: f.URL, FnConnector: f.FnConnector}
	if key != "" && c.cfg.Connectors != nil {
		s := c.summary(r.Context(), key)
		p.Form.SecretSet, p.Form.Where = s.SecretSet, s.Where
		p.Collect = c.collectBox(p.CSRF, key)
	}
	p.Result = &rv
	c.render(w, "index", p, scrub)
}

func (c *Console) handleStatus(w http.ResponseWriter, r *http.Request) {
	p := c.basePage(w, r, "status")
	sv := c.status(r.Context(), p.Connectors)
	p.Status = &sv
	c.render(w, "status", p, nil)
}

// render executes a template into a buffer and sends it. As the last guard, any secret value
// that made it into the page is replaced (and the slip logged, without the value).
func (c *Console) render(w http.ResponseWriter, name string, data any, scrub []string) {
	var buf bytes.Buffer
	if err := c.pages.ExecuteTemplate(&buf, name, data); err != nil {
		c.log.Error("render page", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	out := buf.Bytes()
	for _, s := range scrub {
		if len(s) < 4 {
			continue
		}
		for _, form := range []string{s, html.EscapeString(s), template.HTMLEscapeString(s)} {
			if bytes.Contains(out, []byte(form)) {
				c.log.Error("a secret value reached a page and was redacted", "page", name)
				out = bytes.ReplaceAll(out, []byte(form), []byte("[REDACTED]"))
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// html/template escaped the page; the scrub above only removed text from it.
	_, _ = w.Write(out) //nolint:gosec // G705: the bytes come from html/template, not from the request
}

// ---- result checklist

type resultView struct {
	Error   string
	Report  *conntest.Report
	Checks  []checkView
	Saved   *bool
	Message string
	Key     string
	Collect *collectBox // "Collect now" for the connector just saved
}

type checkView struct {
	conntest.Check
	Mark, Label string
	HintText    string
	Params      string // service-instance parameters JSON to copy (missing scopes)
}

var statusMarks = map[conntest.Status][2]string{
	conntest.Pass: {"✓", "passed"},
	conntest.Warn: {"!", "warning"},
	conntest.Fail: {"✗", "failed"},
	conntest.Skip: {"–", "skipped"},
}

func newResultView(o outcome, err error) resultView {
	rv := resultView{Report: o.Report, Saved: o.Saved, Message: o.Message, Key: o.Key}
	if err != nil {
		rv.Error = err.Error()
	}
	if o.Report == nil {
		return rv
	}
	for _, ch := range o.Report.Checks {
		m := statusMarks[ch.Status]
		cv := checkView{Check: ch, Mark: m[0], Label: m[1]}
		if m[0] == "" {
			cv.Mark, cv.Label = "?", string(ch.Status)
		}
		cv.HintText, cv.Params = splitParams(ch.Hint, ch.Missing)
		rv.Checks = append(rv.Checks, cv)
	}
	return rv
}

// splitParams takes the service-instance parameters JSON out of a scopes hint ("… Parameters:
// {json}"), indented for the copy box. Without one, missing authority lines still give a
// parameters JSON to start from.
func splitParams(hint string, missing []string) (string, string) {
	if before, after, ok := strings.Cut(hint, "Parameters: "); ok {
		var v any
		if json.Unmarshal([]byte(after), &v) == nil {
			b, _ := json.MarshalIndent(v, "", "  ")
			return strings.TrimSpace(before), string(b)
		}
	}
	if len(missing) == 0 {
		return hint, ""
	}
	lines := slices.Clone(missing)
	slices.Sort(lines)
	b, _ := json.MarshalIndent(map[string]any{"xs-security": map[string]any{"authorities": lines}}, "", "  ")
	return hint, string(b)
}

// ---- template helpers

var funcs = template.FuncMap{
	"utc": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dur":   fmtDuration,
	"deref": func(b *bool) bool { return b != nil && *b },
}

// fmtDuration prints a lag like "7m" or "2h05m" or "3d4h".
func fmtDuration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	d = d.Round(time.Minute)
	var s string
	switch {
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		s = fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	}
	if neg {
		return "-" + s
	}
	return s
}
