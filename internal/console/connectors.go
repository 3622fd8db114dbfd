package console

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/calm-collector/calm-collector/internal/secrets"
)

// Connectors is where the console keeps connector secrets.
type Connectors interface {
	// List returns the keys of the stored connectors, sorted.
	List(ctx context.Context) ([]string, error)
	// Source returns the secret of a listed connector; false when there is none by that key.
	Source(key string) (secrets.Source, bool)
	// Create returns the source a new connector named name is saved to, and its key. Stores
	// that cannot grow return an error saying how to add one.
	Create(name string) (secrets.Source, string, error)
}

// keyPattern is what a connector key (a file name without .json) may look like.
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// DirConnectors keeps one file <key>.json (mode 0600) per connector in a directory (created
// 0700 on first save).
type DirConnectors struct{ dir string }

// Dir returns the connectors kept in dir.
func Dir(dir string) *DirConnectors { return &DirConnectors{dir: dir} }

// List implements Connectors.
func (d *DirConnectors) List(context.Context) ([]string, error) {
	entries, err := os.ReadDir(d.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list connectors: %w", err)
	}
	var keys []string
	for _, e := range entries {
		key, ok := strings.CutSuffix(e.Name(), ".json")
		if ok && e.Type().IsRegular() && keyPattern.MatchString(key) {
			keys = append(keys, key)
		}
	}
	return keys, nil
}

// Source implements Connectors.
func (d *DirConnectors) Source(key string) (secrets.Source, bool) {
	if !keyPattern.MatchString(key) {
		return nil, false
	}
	path := filepath.Join(d.dir, key+".json")
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return nil, false
	}
	return secrets.File(path), true
}

// Create implements Connectors: the connector's name is its key.
func (d *DirConnectors) Create(name string) (secrets.Source, string, error) {
	if !keyPattern.MatchString(name) {
		return nil, "", fmt.Errorf("name %q cannot name a connector file: use letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit)", name)
	}
	return secrets.File(filepath.Join(d.dir, name+".json")), name, nil
}

// FixedConnectors are connectors given one by one (secret files, Secrets Manager secrets):
// they can be edited, not added to.
type FixedConnectors struct {
	sources map[string]secrets.Source
}

// Fixed returns the connectors of sources, by key.
func Fixed(sources map[string]secrets.Source) *FixedConnectors {
	return &FixedConnectors{sources: sources}
}

// List implements Connectors.
func (f *FixedConnectors) List(context.Context) ([]string, error) {
	return slices.Sorted(maps.Keys(f.sources)), nil
}

// Source implements Connectors.
func (f *FixedConnectors) Source(key string) (secrets.Source, bool) {
	s, ok := f.sources[key]
	return s, ok
}

// Create implements Connectors: fixed connectors cannot grow.
func (f *FixedConnectors) Create(string) (secrets.Source, string, error) {
	return nil, "", errors.New("this console edits the connectors it was started with: to add one, start it with --connectors-dir, or add a --secret-file or --secret-id")
}

// KeyFor derives a connector key from a secret file path or a Secrets Manager id or ARN: the
// file name without .json, or the id's last segment (an ARN's random suffix removed).
func KeyFor(spec string) string {
	base := spec
	if i := strings.LastIndexAny(base, "/:"); i >= 0 {
		base = base[i+1:]
	}
	base = strings.TrimSuffix(base, ".json")
	if strings.HasPrefix(spec, "arn:") {
		// Secrets Manager appends "-" and six random characters to a secret's name in its ARN.
		if i := strings.LastIndex(base, "-"); i > 0 && len(base)-i == 7 {
			base = base[:i]
		}
	}
	base = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, base)
	base = strings.TrimLeft(base, "._-")
	if base == "" {
		return "connector"
	}
	return base
}
