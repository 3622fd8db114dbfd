package conntest

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Status is the outcome of one check.
type Status string

// The four outcomes of a check. A report is OK when no check failed; warnings do not fail it.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Report is the connection test result in the JSON shape of docs/design.md §3.
type Report struct {
	OK         bool    `json:"ok"`
	Connector  string  `json:"connector"`
	DurationMs int64   `json:"durationMs"`
	Checks     []Check `json:"checks"`
}

// Check is one step of the connection test.
type Check struct {
	ID         string `json:"id"`
	Status     Status `json:"status"`
	Detail     string `json:"detail"`
	Hint       string `json:"hint,omitempty"`
	DurationMs int64  `json:"durationMs"`
	// Missing lists the exact authority lines (`$XSMASTERAPPNAME.calm-api.<x>.read`) that the
	// service instance lacks; only the scopes check and a monitor probe refused with 403 set it.
	Missing []string `json:"missing,omitempty"`
}

// Check returns the check with the given id, and whether the report has it.
func (r Report) Check(id string) (Check, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// Failed returns the ids of the failed checks, in order.
func (r Report) Failed() []string {
	var ids []string
	for _, c := range r.Checks {
		if c.Status == Fail {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// marks are the status columns of the table: fixed width, readable without colour.
var marks = map[Status]string{Pass: "ok", Warn: "WARN", Fail: "FAIL", Skip: "skip"}

// Render writes the report as a table for a terminal: one line per check (status, id, duration,
// detail), the hint (and any missing authority lines) under every check that has one, after a
// verdict line.
func Render(w io.Writer, r Report) error {
	verdict := "passed"
	if !r.OK {
		verdict = "FAILED"
	}
	name := cmp.Or(r.Connector, "(unnamed connector)")
	idWidth, msWidth := 0, 0
	for _, c := range r.Checks {
		idWidth = max(idWidth, len(c.ID))
		msWidth = max(msWidth, len(strconv.FormatInt(c.DurationMs, 10)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "connection test of %s: %s in %d ms\n", name, verdict, r.DurationMs)
	for _, c := range r.Checks {
		mark := cmp.Or(marks[c.Status], string(c.Status))
		fmt.Fprintf(&b, "  %-4s  %-*s  %*d ms  %s\n", mark, idWidth, c.ID, msWidth, c.DurationMs, oneLine(c.Detail))
		if c.Hint != "" {
			fmt.Fprintf(&b, "        hint: %s\n", oneLine(c.Hint))
		}
		for _, m := range c.Missing {
			fmt.Fprintf(&b, "        missing: %s\n", m)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// oneLine keeps a table row on one line whatever a server put into a message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
