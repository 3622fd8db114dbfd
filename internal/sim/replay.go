package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/transcript"
)

// ReplayClientSecret is the client secret of the connector a Replay writes: the replay's
// token endpoint takes any credentials (the transcript's are redacted).
const ReplayClientSecret = "replay-client-secret" //nolint:gosec // G101: not a secret, the replay takes any

// maxReplayBody bounds what a replay reads of a request body.
const maxReplayBody = 1 << 20

// Replay serves a recorded transcript (docs/transcripts.md) in place of Cloud ALM and its
// token endpoint: a request is matched by method, path, normalised query and body
// (transcript.KeyOf) and gets the recorded answer, byte for byte; repeated requests get the
// recorded answers in recorded order. The token endpoint answers the recorded token answers,
// whose (redacted) tokens are the only ones the API accepts. A request the transcript does not
// hold gets 404 naming what was asked and the nearest recorded request, so that a replay that
// goes another way than the recorded run fails loudly.
type Replay struct {
	t      *transcript.Transcript
	ix     *transcript.Index
	tokens []string // the access tokens of the recorded token answers
	log    *slog.Logger
	srv    *http.Server
	url    string
}

// NewReplay builds a replay of t; log nil discards.
func NewReplay(t *transcript.Transcript, log *slog.Logger) *Replay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Replay{t: t, ix: transcript.NewIndex(t), log: log}
	for _, x := range t.Exchanges {
		if x.To != transcript.ToAuth {
			continue
		}
		b, _ := x.ResponseBody.Bytes()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(b, &tok) == nil && tok.AccessToken != "" && !slices.Contains(r.tokens, tok.AccessToken) {
			r.tokens = append(r.tokens, tok.AccessToken)
		}
	}
	return r
}

// Transcript is the transcript served.
func (r *Replay) Transcript() *transcript.Transcript { return r.t }

// Unserved lists the recorded requests no one asked for (as often as recorded).
func (r *Replay) Unserved() []string { return r.ix.Unserved() }

func (r *Replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxReplayBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request", "read the request body: "+err.Error())
		return
	}
	to := transcript.ToAPI
	if req.URL.Path == "/oauth/token" {
		to = transcript.ToAuth
	}
	if to == transcript.ToAPI && !r.tokenOK(req.Header.Get("Authorization")) {
		writeError(w, http.StatusUnauthorized, "invalid_token",
			"the replay accepts only the tokens its token endpoint issues (get one at /oauth/token)")
		return
	}
	k := transcript.KeyOf(to, req.Method, req.URL.Path, req.URL.RawQuery, body)
	x := r.ix.Next(k)
	if x == nil {
		msg := "the transcript holds no answer to " + k.String()
		if near := r.ix.Nearest(k); near != "" {
			msg += "; nearest recorded request: " + near
		}
		r.log.Warn("replay: request not in the transcript", "asked", k.String(), "nearest", r.ix.Nearest(k))
		writeError(w, http.StatusNotFound, "Not Recorded", msg)
		return
	}
	r.answer(w, x)
}

func (r *Replay) tokenOK(auth string) bool {
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	return ok && slices.Contains(r.tokens, tok)
}

// answer writes the recorded answer: its headers but those of the connection, its status and
// its bytes.
func (r *Replay) answer(w http.ResponseWriter, x *transcript.Exchange) {
	b, err := x.ResponseBody.Bytes()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Bad Transcript", fmt.Sprintf("exchange %d: body: %v", x.Seq, err))
		return
	}
	for k, vs := range x.ResponseHeader {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Transfer-Encoding", "Connection", "Date", "Keep-Alive":
			continue
		}
		w.Header()[k] = slices.Clone(vs)
	}
	w.WriteHeader(x.Status)
	// The recorded bytes go back as they came, with the recorded Content-Type: a replay serves
	// the client under test, never a browser.
	_, _ = w.Write(b) //nolint:gosec // G705: see above
}

// Start serves the replay over plain HTTP on addr (e.g. "127.0.0.1:0").
func (r *Replay) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("start replay on %s: %w", addr, err)
	}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(r.log.Handler(), slog.LevelDebug)}
	r.url = "http://" + ln.Addr().String()
	go func() {
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error("replay stopped", "err", err)
		}
	}()
	return nil
}

// URL is the replay's base URL (the connector's url and authenticationServer).
func (r *Replay) URL() string { return r.url }

// Close stops the listener and every open connection.
func (r *Replay) Close() error {
	if r.srv == nil {
		return nil
	}
	return r.srv.Close()
}

// ConnectorJSON is a connector secret for the replay: the recorded name and client id, the
// replay's URL and ReplayClientSecret.
func (r *Replay) ConnectorJSON() []byte {
	b, _ := json.Marshal(map[string]string{
		"name": r.t.Meta.Settings.Name, "clientId": r.t.Meta.Settings.ClientID, "clientSecret": ReplayClientSecret,
		"url": r.url, "authenticationServer": r.url,
	})
	return b
}
