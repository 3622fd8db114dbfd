package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// parseFlags parses args with fs. Asked for help (-h, --help), it prints the usage to stdout and
// ends with exit 0; a flag that does not parse prints the problem and the usage to stderr and ends
// with exit 2. fs.Usage must write to fs.Output().
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, done bool) {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = stdout.Write(buf.Bytes())
		return 0, true
	case err != nil:
		_, _ = stderr.Write(buf.Bytes())
		return 2, true
	}
	return 0, false
}

// usageFunc is a FlagSet's usage: the text, the flags, then the examples (each is run by a test,
// TestHelpExamplesRun).
func usageFunc(fs *flag.FlagSet, text string, examples ...string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprint(w, strings.TrimRight(text, "\n")+"\n\nflags:\n")
		fs.PrintDefaults()
		writeExamples(w, examples)
	}
}

// writeExamples writes an "examples:" section, one command a line.
func writeExamples(w io.Writer, examples []string) {
	if len(examples) == 0 {
		return
	}
	fmt.Fprintln(w, "\nexamples:")
	for _, e := range examples {
		fmt.Fprintf(w, "  %s\n", e)
	}
}
