// Package version says which release of calm-collector a binary is: the semantic version a
// release stamps with -ldflags (make release, from the git tag), else the module version
// `go install …@vX.Y.Z` records, else "dev" with the commit the build came from.
package version

import (
	"runtime/debug"
	"sync"
)

// stamped is set by make release: -ldflags "-X github.com/calm-collector/calm-collector/internal/version.stamped=v1.2.3".
var stamped string

// String is the version of this binary, computed once.
var String = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fromBuild(stamped, "", nil)
	}
	return fromBuild(stamped, bi.Main.Version, bi.Settings)
})

// fromBuild picks the version: the stamped one, a real module version, or dev with the commit.
func fromBuild(stamped, module string, settings []debug.BuildSetting) string {
	if stamped != "" {
		return stamped
	}
	if module != "" && module != "(devel)" {
		return module
	}
	var rev, dirty string
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "dev"
	}
	return "dev+" + rev + dirty
}
