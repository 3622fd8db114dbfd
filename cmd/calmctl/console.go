package main

import (
	"context"
	"fmt"
	"io"
)

func runConsole(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "calmctl console: not implemented yet")
	return 2
}
