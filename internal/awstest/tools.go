package awstest

import (
	"os"
	"path/filepath"
)

// moduleRoot returns the directory holding go.mod, searching upwards from the working directory
// (go test runs in the package directory).
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
