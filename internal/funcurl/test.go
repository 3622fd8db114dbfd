package funcurl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxAnswer bounds what is read of the testconn function's answer.
const maxAnswer = 1 << 20

// Test asks the testconn function at fn for a connection test, the one request `calmctl test
// --function-url` and the console's remote mode send: GET (body nil) tests the function's
// stored connector (connector names one of several, "" the default), POST tests the settings
// in body; save asks it to store them when the test passes. It returns the request's method, the
// HTTP status and up to 1 MiB of the answer; the caller decodes the report (see NotAReport).
func (c *Caller) Test(ctx context.Context, fn *url.URL, connector string, body []byte, save bool) (method string, status int, answer []byte, err error) {
	u := *fn
	q := u.Query()
	if connector != "" {
		q.Set("connector", connector)
	}
	if save {
		q.Set("save", "true")
	}
	u.RawQuery = q.Encode()
	method = http.MethodGet
	if body != nil {
		method = http.MethodPost
	}
	resp, err := c.Do(ctx, method, u.String(), body)
	if err != nil {
		return method, 0, nil, fmt.Errorf("ask the testconn function: %w", err)
	}
	defer resp.Body.Close()
	answer, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return method, resp.StatusCode, nil, fmt.Errorf("read the answer of the testconn function %s: %w", u.Redacted(), err)
	}
	return method, resp.StatusCode, answer, nil
}

// NotAReport says what the testconn function answered when the answer is not a connection
// test report: "HTTP <status>: " and its "error" field, the "Message" of an AWS error, or the
// body itself (cut at 300 bytes), with a hint on the permission a 403 lacks.
func NotAReport(status int, answer []byte) string {
	var fields struct {
		Error   string `json:"error"`
		Message string
	}
	_ = json.Unmarshal(answer, &fields) // not JSON: the body itself is the message
	msg := fields.Error
	if msg == "" {
		msg = fields.Message
	}
	if msg == "" {
		msg = strings.TrimSpace(string(answer))
	}
	if msg == "" {
		msg = "an empty answer, not a connection test report"
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	hint := ""
	if status == http.StatusForbidden {
		hint = " (the function URL uses IAM auth: your credentials need lambda:InvokeFunctionUrl on the function)"
	}
	return fmt.Sprintf("HTTP %d: %s%s", status, msg, hint)
}
