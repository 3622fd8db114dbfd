package main

import (
	"testing"

	"github.com/calm-collector/calm-collector/internal/awstest"
)

// The Lambda build links none of the packages that once doubled its size (BENCHMARKS.md).
func TestBootstrapLinksNoUnwantedPackages(t *testing.T) { awstest.CheckBootstrapDeps(t) }
