package collect

import (
	"testing"

	"github.com/calm-collector/calm-collector/internal/awstest"
)

// TestMain stops the shared moto_server after the tests.
func TestMain(m *testing.M) { awstest.Main(m) }
