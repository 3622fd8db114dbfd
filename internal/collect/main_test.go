package collect

import (
	"os"
	"testing"

	"github.com/calm-collector/calm-collector/internal/awstest"
)

// TestMain stops the shared moto_server after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	awstest.StopAll()
	os.Exit(code)
}
