package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/fsutil"
)

// FileStore keeps state in a directory, one subdirectory per tenant:
//
//	<dir>/<tenant>/checkpoint.<monitor>.json
//	<dir>/<tenant>/marks.<monitor>.json
//	<dir>/<tenant>/lease.json
//	<dir>/<tenant>/.guard
//
// Every file is replaced atomically (temp file in the same directory, fsync, rename, fsync of the
// directory), so a crash leaves the old or the new content, never a torn one; a leftover temp file
// is ignored. Each read-compare-write (Put, PutMarks and the lease operations) runs under an
// exclusive flock on the tenant's .guard file, so concurrent runs on one machine, in one process or
// several, see each other's writes. The directory must be on a local file system.
type FileStore struct {
	dir string
	now func() time.Time
}

// NewFileStore opens (creating when missing) a file store in dir.
func NewFileStore(dir string, opts ...Option) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open state directory: %w", err)
	}
	return &FileStore{dir: dir, now: buildOptions(opts).now}, nil
}

// Dir returns the store's directory.
func (s *FileStore) Dir() string { return s.dir }

// Get implements Store.
func (s *FileStore) Get(_ context.Context, tenant, monitor string) (Checkpoint, bool, error) {
	if err := checkNames(tenant, monitor, true); err != nil {
		return Checkpoint{}, false, fmt.Errorf("get checkpoint: %w", err)
	}
	var cp Checkpoint
	ok, err := readJSON(filepath.Join(s.tenantDir(tenant), "checkpoint."+escape(monitor)+".json"), &cp)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("get checkpoint %s/%s: %w", tenant, monitor, err)
	}
	return cp, ok, nil
}

// List implements Store.
func (s *FileStore) List(_ context.Context, tenant string) ([]Checkpoint, error) {
	if err := checkNames(tenant, "", false); err != nil {
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	entries, err := os.ReadDir(s.tenantDir(tenant))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list checkpoints of %s: %w", tenant, err)
	}
	var cps []Checkpoint
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, "checkpoint.") || !strings.HasSuffix(name, ".json") {
			continue // temp files start with '.', and end in a random suffix
		}
		var cp Checkpoint
		ok, err := readJSON(filepath.Join(s.tenantDir(tenant), name), &cp)
		if err != nil {
			return nil, fmt.Errorf("list checkpoints of %s: %w", tenant, err)
		}
		if ok {
			cps = append(cps, cp)
		}
	}
	slices.SortFunc(cps, func(a, b Checkpoint) int { return strings.Compare(a.Monitor, b.Monitor) })
	return cps, nil
}

// Put implements Store.
func (s *FileStore) Put(_ context.Context, cp Checkpoint) error {
	if err := checkNames(cp.Tenant, cp.Monitor, true); err != nil {
		return fmt.Errorf("put checkpoint: %w", err)
	}
	if cp.UpdatedAt.IsZero() {
		cp.UpdatedAt = s.now().UTC()
	}
	return s.locked(cp.Tenant, func(dir string) error {
		path := filepath.Join(dir, "checkpoint."+escape(cp.Monitor)+".json")
		var old Checkpoint
		ok, err := readJSON(path, &old)
		if err != nil {
			return fmt.Errorf("put checkpoint %s/%s: %w", cp.Tenant, cp.Monitor, err)
		}
		if ok && cp.Next.UnixMilli() < old.Next.UnixMilli() {
			return fmt.Errorf("put checkpoint %s/%s: next %s is before the stored %s: %w",
				cp.Tenant, cp.Monitor, cp.Next.UTC().Format(time.RFC3339Nano), old.Next.UTC().Format(time.RFC3339Nano), ErrStale)
		}
		if err := writeJSON(path, cp); err != nil {
			return fmt.Errorf("put checkpoint %s/%s: %w", cp.Tenant, cp.Monitor, err)
		}
		return nil
	})
}

// Acquire implements Store.
func (s *FileStore) Acquire(_ context.Context, tenant, owner string, ttl time.Duration) (Lease, error) {
	if err := errors.Join(checkNames(tenant, "", false), checkOwner(owner), checkTTL(ttl)); err != nil {
		return Lease{}, fmt.Errorf("acquire lease: %w", err)
	}
	var l Lease
	err := s.locked(tenant, func(dir string) error {
		path := filepath.Join(dir, "lease.json")
		now := s.now()
		var cur Lease
		ok, err := readJSON(path, &cur)
		if err != nil {
			return err
		}
		if ok && cur.Owner != owner && !expired(cur.Expires, now) {
			return &HeldError{Tenant: tenant, Owner: cur.Owner, Expires: cur.Expires}
		}
		// Free, expired or ours: the rename in writeJSON takes it over atomically.
		l = Lease{Tenant: tenant, Owner: owner, Expires: leaseExpiry(now, ttl)}
		return writeJSON(path, l)
	})
	if err != nil {
		return Lease{}, fmt.Errorf("acquire lease of %s: %w", tenant, err)
	}
	return l, nil
}

// Renew implements Store.
func (s *FileStore) Renew(_ context.Context, l Lease, ttl time.Duration) (Lease, error) {
	if err := errors.Join(checkNames(l.Tenant, "", false), checkOwner(l.Owner), checkTTL(ttl)); err != nil {
		return Lease{}, fmt.Errorf("renew lease: %w", err)
	}
	var renewed Lease
	err := s.locked(l.Tenant, func(dir string) error {
		path := filepath.Join(dir, "lease.json")
		now := s.now()
		var cur Lease
		ok, err := readJSON(path, &cur)
		if err != nil {
			return err
		}
		if err := stillOurs(l, cur, ok, now); err != nil {
			return err
		}
		renewed = Lease{Tenant: l.Tenant, Owner: l.Owner, Expires: leaseExpiry(now, ttl)}
		return writeJSON(path, renewed)
	})
	if err != nil {
		return Lease{}, fmt.Errorf("renew lease of %s for %s: %w", l.Tenant, l.Owner, err)
	}
	return renewed, nil
}

// Release implements Store.
func (s *FileStore) Release(_ context.Context, l Lease) error {
	if err := errors.Join(checkNames(l.Tenant, "", false), checkOwner(l.Owner)); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	err := s.locked(l.Tenant, func(dir string) error {
		path := filepath.Join(dir, "lease.json")
		var cur Lease
		ok, err := readJSON(path, &cur)
		if err != nil {
			return err
		}
		if !ok || cur.Owner != l.Owner {
			return ErrNotHeld
		}
		if err := os.Remove(path); err != nil {
			return err
		}
		return fsutil.SyncDir(dir)
	})
	if err != nil {
		return fmt.Errorf("release lease of %s for %s: %w", l.Tenant, l.Owner, err)
	}
	return nil
}

// stillOurs decides whether a lease can be renewed given what is stored.
func stillOurs(l, cur Lease, ok bool, now time.Time) error {
	switch {
	case ok && cur.Owner == l.Owner:
		return nil // even when expired: nobody took it over
	case ok && !expired(cur.Expires, now):
		return &HeldError{Tenant: l.Tenant, Owner: cur.Owner, Expires: cur.Expires}
	default:
		return ErrNotHeld
	}
}

// Marks implements Store.
func (s *FileStore) Marks(_ context.Context, tenant, monitor string, now time.Time) (map[string]Mark, error) {
	if err := checkNames(tenant, monitor, true); err != nil {
		return nil, fmt.Errorf("get marks: %w", err)
	}
	var stored map[string]Mark
	if _, err := readJSON(filepath.Join(s.tenantDir(tenant), "marks."+escape(monitor)+".json"), &stored); err != nil {
		return nil, fmt.Errorf("get marks %s/%s: %w", tenant, monitor, err)
	}
	return unexpired(stored, now), nil
}

// PutMarks implements Store.
func (s *FileStore) PutMarks(_ context.Context, tenant, monitor string, now time.Time, marks map[string]Mark) error {
	if err := checkNames(tenant, monitor, true); err != nil {
		return fmt.Errorf("put marks: %w", err)
	}
	if len(marks) == 0 {
		return nil
	}
	return s.locked(tenant, func(dir string) error {
		path := filepath.Join(dir, "marks."+escape(monitor)+".json")
		var stored map[string]Mark
		if _, err := readJSON(path, &stored); err != nil {
			return fmt.Errorf("put marks %s/%s: %w", tenant, monitor, err)
		}
		merged := unexpired(stored, now) // expired marks are dropped here, on the next write
		for k, m := range marks {
			merged[k] = m
		}
		if err := writeJSON(path, merged); err != nil {
			return fmt.Errorf("put marks %s/%s: %w", tenant, monitor, err)
		}
		return nil
	})
}

func unexpired(marks map[string]Mark, now time.Time) map[string]Mark {
	out := make(map[string]Mark, len(marks))
	for k, m := range marks {
		if m.Expires.UnixMilli() > now.UnixMilli() {
			out[k] = m
		}
	}
	return out
}

func checkOwner(owner string) error {
	if strings.TrimSpace(owner) == "" {
		return errors.New("lease owner is empty")
	}
	return nil
}

func (s *FileStore) tenantDir(tenant string) string { return filepath.Join(s.dir, escape(tenant)) }

// locked runs fn holding the tenant's guard lock.
func (s *FileStore) locked(tenant string, fn func(dir string) error) error {
	dir := s.tenantDir(tenant)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state directory of %s: %w", tenant, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".guard"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("lock state of %s: %w", tenant, err)
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return fmt.Errorf("lock state of %s: %w", tenant, err)
	}
	// Closing the file releases the lock too, so a failed unlock loses nothing.
	defer func() { _ = unlockFile(f) }()
	return fn(dir)
}

// escape turns a name into a file-name part: letters, digits, '-' and '_' stay, every other byte
// becomes %XX, so no name can climb out of the directory or collide with another.
func escape(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// readJSON decodes path into v; false when the file does not exist.
func readJSON(path string, v any) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("%s is corrupt (%v): move it away to start over", path, err)
	}
	return true, nil
}

// writeJSON replaces path atomically with v's JSON.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, append(data, '\n'), 0o600)
}
