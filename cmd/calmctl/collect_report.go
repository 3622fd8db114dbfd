package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/collect"
)

// report prints the run's summary: JSON on stdout with --json, else the table on stderr.
func (a *collectArgs) report(sum collect.Summary, stdout, stderr io.Writer) error {
	if !a.json {
		return sum.WriteTable(stderr)
	}
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(b, '\n'))
	return err
}

// writeResume prints, for a backfill that did not finish (Ctrl-C, --timeout, a failed monitor),
// the command that collects the rest: the same flags with --from moved to where each monitor
// stopped. Monitors that stopped at the same time share one command.
func writeResume(w io.Writer, args []string, rng collect.Range, sum collect.Summary) {
	rest := map[time.Time][]string{}
	for _, m := range sum.Monitors {
		next := rng.From
		if m.To.After(next) {
			next = m.To
		}
		if next.Before(rng.To) {
			rest[next] = append(rest[next], m.Monitor)
		}
	}
	if len(rest) == 0 {
		return
	}
	fmt.Fprintln(w, "the backfill stopped before its end; to collect the rest, run:")
	kept := withoutFlags(args, "from", "monitors")
	for _, from := range slices.SortedFunc(maps.Keys(rest), func(a, b time.Time) int { return a.Compare(b) }) {
		cmd := append([]string{"calmctl", "collect"}, kept...)
		cmd = append(cmd, "--monitors", strings.Join(rest[from], ","), "--from", from.UTC().Format(time.RFC3339))
		fmt.Fprintf(w, "  %s\n", shellJoin(cmd))
	}
}

// withoutFlags returns args without the named flags and their values (-name v, --name v,
// -name=v, --name=v).
func withoutFlags(args []string, names ...string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		base, _, inline := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if strings.HasPrefix(args[i], "-") && slices.Contains(names, base) {
			if !inline {
				i++ // the value is the next argument
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// shellJoin joins args into one line a POSIX shell reads back as args.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, s := range args {
		if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@+%") == "" {
			q[i] = s
		} else {
			q[i] = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
