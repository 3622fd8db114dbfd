// Command calmctl is the operator's tool for calm-collector: it runs the Cloud ALM simulator, the
// connection test and a collection from a terminal, with the same internals as the Lambdas.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/calm-collector/calm-collector/internal/version"
)

// command is one calmctl subcommand. run returns the process exit code:
// 0 success, 1 the work failed, 2 usage or settings.
type command struct {
	name  string
	usage string
	run   func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands is the one table of subcommands.
var commands = []command{
	{"sim", "run the Cloud ALM simulator on loopback", runSim},
	{"test", "run the connection test against a connector", runTest},
	{"collect", "collect Cloud ALM monitors into local or AWS sinks", runCollect},
	{"console", "serve the local web console", runConsole},
	{"connector", "add, list or remove the tenants of a deployed stack", runConnector},
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// runContext runs the command args names until it is done or ctx ends.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	case "-version", "--version", "version":
		fmt.Fprintf(stdout, "calmctl %s\n", version.String())
		return 0
	}
	if i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] }); i >= 0 {
		applyMemoryBudget(args[0], os.Getenv)
		return commands[i].run(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "calmctl: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: calmctl <command> [flags]")
	fmt.Fprintln(w, "       calmctl --version")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "run 'calmctl <command> -h' for the flags and examples of a command")
	writeExamples(w, []string{"calmctl --version"})
}
