package transcript

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"
)

// Version is the format version written into every transcript. A reader refuses a newer one.
const Version = 1

// The files of a transcript directory.
const (
	MetaFile      = "transcript.json" // Meta
	ExchangesFile = "exchanges.jsonl" // one Exchange per line, in the order the answers completed
	ExpectedFile  = "expected.json"   // Expected: what the recorded run delivered (collect runs)
	ReportFile    = "report.json"     // the connection test's report (test runs)
	StateDir      = "state"           // the tenant's file state as the run found it (optional)
)

// Meta describes the recorded run.
type Meta struct {
	Version int `json:"version"`
	// Command is what was recorded: "collect" or "test".
	Command string `json:"command"`
	// Recorded is the wall time the recording started.
	Recorded time.Time `json:"recorded"`
	// Now is the collector's clock during the run: a replay runs with it.
	Now time.Time `json:"now"`
	// Settings are the connector's non-secret settings.
	Settings Settings `json:"settings"`
	// Run holds the command's non-secret settings (for collect: collect.Config and the backfill
	// range), as the command wrote them.
	Run json.RawMessage `json:"run,omitempty"`
	// RedactedServices is how many service names were replaced by pseudonyms.
	RedactedServices int `json:"redactedServices,omitempty"`
	// State says whether StateDir holds the state the run started from.
	State bool `json:"state,omitempty"`
	// Source names what was recorded when it was not a tenant: the simulator setup of a
	// generated transcript.
	Source string `json:"source,omitempty"`
}

// Settings are the connector settings a transcript keeps: none of them is a secret.
type Settings struct {
	Name                 string `json:"name"`
	URL                  string `json:"url"`
	AuthenticationServer string `json:"authenticationServer"`
	ClientID             string `json:"clientId"`
	CredentialType       string `json:"credentialType"`
}

// Exchange is one HTTP request and its answer.
type Exchange struct {
	Seq int `json:"seq"`
	// To is "auth" for the token endpoint, "api" for Cloud ALM's API.
	To             string      `json:"to"`
	Method         string      `json:"method"`
	Path           string      `json:"path"`
	Query          string      `json:"query,omitempty"`
	RequestHeader  http.Header `json:"requestHeader,omitempty"`
	RequestBody    *Body       `json:"requestBody,omitempty"`
	Status         int         `json:"status,omitempty"`
	ResponseHeader http.Header `json:"responseHeader,omitempty"`
	ResponseBody   *Body       `json:"responseBody,omitempty"`
	// Error is the transport error of an exchange without an answer, or whose body broke off
	// (ResponseBody then holds what came).
	Error string `json:"error,omitempty"`
	// Rewritten says why the body is not the bytes on the wire: "service names" (re-compressed
	// after pseudonyms replaced names) or "secret" (a secret was found in it and cut out; stored
	// decoded).
	Rewritten string `json:"rewritten,omitempty"`
}

// Body is a body as sent: Text when it is UTF-8 text, else Base64 of the bytes (gzip'd and
// protobuf bodies).
type Body struct {
	Text   string `json:"text,omitempty"`
	Base64 string `json:"base64,omitempty"`
}

// NewBody returns b as a Body (nil for none).
func NewBody(b []byte) *Body {
	switch {
	case len(b) == 0:
		return nil
	case utf8.Valid(b) && !hasControl(b):
		return &Body{Text: string(b)}
	}
	return &Body{Base64: base64.StdEncoding.EncodeToString(b)}
}

// hasControl reports a byte no text body holds (so binary that happens to be UTF-8 is kept as
// base64).
func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return true
		}
	}
	return false
}

// Bytes returns the body's bytes.
func (b *Body) Bytes() ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	if b.Base64 != "" {
		return base64.StdEncoding.DecodeString(b.Base64)
	}
	return []byte(b.Text), nil
}

// Transcript is a transcript read back.
type Transcript struct {
	Dir       string
	Meta      Meta
	Exchanges []Exchange
}

// Load reads the transcript in dir.
func Load(dir string) (*Transcript, error) {
	t := &Transcript{Dir: dir}
	raw, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return nil, fmt.Errorf("read transcript %s: %w (a transcript directory holds %s and %s)", dir, err, MetaFile, ExchangesFile)
	}
	if err := json.Unmarshal(raw, &t.Meta); err != nil {
		return nil, fmt.Errorf("read transcript %s: %s: %w", dir, MetaFile, err)
	}
	if t.Meta.Version < 1 || t.Meta.Version > Version {
		return nil, fmt.Errorf("read transcript %s: version %d; this build reads versions 1 to %d", dir, t.Meta.Version, Version)
	}
	f, err := os.Open(filepath.Join(dir, ExchangesFile))
	if err != nil {
		return nil, fmt.Errorf("read transcript %s: %w", dir, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<30)
	for line := 1; sc.Scan(); line++ {
		var x Exchange
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			return nil, fmt.Errorf("read transcript %s: %s line %d: %w", dir, ExchangesFile, line, err)
		}
		t.Exchanges = append(t.Exchanges, x)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read transcript %s: %s: %w", dir, ExchangesFile, err)
	}
	return t, nil
}

// ReadJSON reads one of the transcript's other files (ExpectedFile, ReportFile) into v; a
// missing file is os.ErrNotExist.
func (t *Transcript) ReadJSON(name string, v any) error {
	raw, err := os.ReadFile(filepath.Join(t.Dir, name))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("read transcript %s: %s: %w", t.Dir, name, err)
	}
	return nil
}

// ErrNotTranscript is returned by Create for a directory that holds files other than a
// transcript's.
var ErrNotTranscript = errors.New("not an empty directory")
