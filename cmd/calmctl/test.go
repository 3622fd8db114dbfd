package main

import (
	"context"
	"fmt"
	"io"
)

func runTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "calmctl test: not implemented yet")
	return 2
}
