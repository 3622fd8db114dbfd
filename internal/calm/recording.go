package calm

import (
	"bytes"
	"io"
	"net/http"

	"github.com/calm-collector/calm-collector/internal/transcript"
)

// maxRecordedBody bounds what the recording transport keeps of one answer; the rest still
// reaches the client (which bounds it by MaxBodyBytes).
const maxRecordedBody = 256 << 20

// recordingTransport writes every exchange that passes through it into a transcript
// (Options.Recorder, docs/transcripts.md). It reads each answer whole before the client does,
// so that the transcript holds the bytes as they came (gzip'd and protobuf bodies included);
// redaction is the transcript's.
type recordingTransport struct {
	next http.RoundTripper
	rec  *transcript.Recorder
	to   string // transcript.ToAuth or transcript.ToAPI
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.rec.Record(transcript.Raw{To: t.to, Request: req, RequestBody: reqBody, Err: err})
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxRecordedBody))
	rest := resp.Body
	if rerr != nil || int64(len(body)) < maxRecordedBody {
		rest.Close()
		rest = nil
	}
	t.rec.Record(transcript.Raw{To: t.to, Request: req, RequestBody: reqBody, Response: resp, ResponseBody: body, Err: rerr})
	resp.Body = replayedBody(body, rerr, rest)
	return resp, nil
}

// replayedBody gives the client the bytes read, then the read error (if any), then the rest
// of an answer longer than what is recorded.
func replayedBody(body []byte, err error, rest io.ReadCloser) io.ReadCloser {
	readers := []io.Reader{bytes.NewReader(body)}
	switch {
	case err != nil:
		readers = append(readers, errReader{err})
	case rest != nil:
		readers = append(readers, rest)
	}
	var closer io.Closer = io.NopCloser(nil)
	if rest != nil {
		closer = rest
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(readers...), closer}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// recording returns a copy of hc whose transport records into rec.
func recording(hc *http.Client, rec *transcript.Recorder, to string) *http.Client {
	c := *hc
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &recordingTransport{next: next, rec: rec, to: to}
	return &c
}

// recordSettings tells rec the settings' secret values, to cut out wherever they appear.
func recordSettings(rec *transcript.Recorder, s Settings) {
	rec.AddSecrets(s.ClientSecret.Reveal(), s.Key.Reveal(), s.Certificate)
}

// RecordTo makes the token source write every exchange with the token endpoint into rec
// (docs/transcripts.md). Call it before the first token. A Client built by New with
// Options.Recorder and no Options.Tokens does it for the token source it builds.
func (t *TokenSource) RecordTo(rec *transcript.Recorder) {
	rec.AddSecrets(t.secret.Reveal())
	g, ok := t.hc.Transport.(htmlGuard)
	if !ok {
		return
	}
	t.hc.Transport = htmlGuard{next: &recordingTransport{next: g.next, rec: rec, to: transcript.ToAuth}}
}
