package main

import (
	"context"
	"fmt"
	"io"
)

func runCollect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "calmctl collect: not implemented yet")
	return 2
}
