package transcript

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// To values of an Exchange.
const (
	ToAuth = "auth" // the token endpoint
	ToAPI  = "api"  // Cloud ALM's API
)

// Raw is one exchange as it happened, before redaction. Response is nil when no answer came.
type Raw struct {
	To           string
	Request      *http.Request
	RequestBody  []byte
	Response     *http.Response
	ResponseBody []byte
	Err          error
}

// Options say what a Recorder redacts beyond what it always does (docs/transcripts.md).
type Options struct {
	// Secrets are values cut out of every byte written (client secret, private key,
	// certificate); tokens are learned from the token endpoint's answers.
	Secrets []string
	// Services are service names replaced everywhere by a pseudonym of the same length, the
	// same one throughout the transcript so that a replay asks for what was recorded.
	Services []string
}

// Recorder writes a transcript as the run goes: one line per exchange, redacted before it is
// written. It is safe for concurrent use.
type Recorder struct {
	dir    string
	redact *redactor

	mu  sync.Mutex
	f   *os.File
	seq int
	err error
}

// Create starts a transcript in dir, which must not exist or be empty (a transcript is never
// mixed with another run's exchanges).
func Create(dir string, o Options) (*Recorder, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("record into %s: %w: choose a new directory for the transcript", dir, ErrNotTranscript)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("record into %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ExchangesFile), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("record into %s: %w", dir, err)
	}
	return &Recorder{dir: dir, f: f, redact: newRedactor(o.Secrets, o.Services)}, nil
}

// Dir is the transcript's directory.
func (r *Recorder) Dir() string { return r.dir }

// AddSecrets adds values to cut out of everything written from now on.
func (r *Recorder) AddSecrets(values ...string) { r.redact.addSecrets(values...) }

// Services returns how many service names are replaced by pseudonyms.
func (r *Recorder) Services() int { return len(r.redact.names) }

// Pseudonyms applies the service-name pseudonyms (and nothing else) to s: what a value
// delivered by the recorded run reads as in the transcript.
func (r *Recorder) Pseudonyms(s string) string {
	for _, n := range r.redact.names {
		s = strings.ReplaceAll(s, n, r.redact.pseudo[n])
	}
	return s
}

// Record redacts x and writes it. A write error is kept for Close (recording never fails the
// run it records).
func (r *Recorder) Record(x Raw) {
	e := r.exchange(x)
	r.mu.Lock()
	defer r.mu.Unlock()
	// Seq is the order of completion, set under the lock that orders the lines.
	r.seq++
	e.Seq = r.seq
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false) // queries and bodies read as sent: & and < unescaped
	err := enc.Encode(e)
	if err == nil && r.f != nil {
		_, err = r.f.Write(line.Bytes())
	}
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("record exchange %d: %w", r.seq, err)
	}
}

// exchange is x redacted.
func (r *Recorder) exchange(x Raw) Exchange {
	rd := r.redact
	req := x.Request
	e := Exchange{To: x.To, Method: req.Method, Path: rd.text(req.URL.Path), Query: rd.query(req.URL.RawQuery),
		RequestHeader: rd.header(req.Header)}
	if len(x.RequestBody) > 0 {
		body := x.RequestBody
		if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			body = rd.form(body)
		}
		b, why := rd.body(body, e.RequestHeader)
		e.RequestBody, e.Rewritten = NewBody(b), why
	}
	if x.Err != nil {
		e.Error = rd.text(x.Err.Error())
	}
	if x.Response == nil {
		return e
	}
	e.Status = x.Response.StatusCode
	e.ResponseHeader = rd.header(x.Response.Header)
	if e.ResponseHeader == nil {
		e.ResponseHeader = http.Header{}
	}
	body := x.ResponseBody
	if x.To == ToAuth {
		plain, zipped := inflate(body, e.ResponseHeader)
		if t := rd.tokenAnswer(plain); string(t) != string(plain) {
			body = t
			if zipped {
				body = deflate(t)
			}
			e.ResponseHeader.Del("Content-Length")
		}
	}
	b, why := rd.body(body, e.ResponseHeader)
	e.ResponseBody = NewBody(b)
	if why != "" {
		e.Rewritten = why
	}
	return e
}

// WriteJSON writes one of the transcript's other files (ExpectedFile, ReportFile), redacted.
func (r *Recorder) WriteJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	b = []byte(r.redact.text(string(b)) + "\n")
	if err := os.WriteFile(filepath.Join(r.dir, name), b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// Close writes m (version set) and closes the exchanges file; it returns the first error of
// the recording.
func (r *Recorder) Close(m Meta) error {
	m.Version = Version
	m.RedactedServices = len(r.redact.names)
	r.mu.Lock()
	f, err := r.f, r.err
	r.f = nil
	r.mu.Unlock()
	if f != nil {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", ExchangesFile, cerr)
		}
	}
	if werr := r.WriteJSON(MetaFile, m); err == nil {
		err = werr
	}
	return err
}
