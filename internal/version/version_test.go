package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuild(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "9f67d2a1b2c3d4e5f60718293a4b5c6d7e8f9012"}, {Key: "vcs.modified", Value: "false"}}
	dirty := []debug.BuildSetting{{Key: "vcs.revision", Value: "9f67d2a1b2c3"}, {Key: "vcs.modified", Value: "true"}}
	for _, c := range []struct {
		name, stamped, module string
		settings              []debug.BuildSetting
		want                  string
	}{
		{"make release stamps the tag", "v1.2.3", "(devel)", vcs, "v1.2.3"},
		{"go install @v1.2.0 records the module version", "", "v1.2.0", nil, "v1.2.0"},
		{"a build in a checkout between tags", "", "v0.1.1-0.20261206182100-9f67d2a1b2c3+dirty", dirty, "v0.1.1-0.20261206182100-9f67d2a1b2c3+dirty"},
		{"go build without module version: the commit", "", "(devel)", vcs, "dev+9f67d2a1b2c3"},
		{"with changes not committed", "", "", dirty, "dev+9f67d2a1b2c3-dirty"},
		{"nothing known", "", "", nil, "dev"},
	} {
		if got := fromBuild(c.stamped, c.module, c.settings); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
