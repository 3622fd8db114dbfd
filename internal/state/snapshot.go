package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Snapshot copies the tenant's state (checkpoints, marks and whatever else the store keeps per
// tenant, but not the lease or its guard) into dst, laid out as a FileStore directory, each
// file's bytes passed through edit (nil: as they are). A recorded run keeps the state it started
// from this way (docs/transcripts.md). It reports whether the tenant had any state.
func (s *FileStore) Snapshot(tenant, dst string, edit func([]byte) []byte) (bool, error) {
	src := s.tenantDir(tenant)
	entries, err := os.ReadDir(src)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("snapshot state of %s: %w", tenant, err)
	}
	out := filepath.Join(dst, escape(tenant))
	copied := false
	err = s.locked(tenant, func(string) error {
		for _, e := range entries {
			if !e.Type().IsRegular() || e.Name() == "lease.json" || e.Name() == ".guard" {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				return err
			}
			if edit != nil {
				b = edit(b)
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, e.Name()), b, 0o600); err != nil {
				return err
			}
			copied = true
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("snapshot state of %s: %w", tenant, err)
	}
	return copied, nil
}
