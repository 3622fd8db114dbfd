package secrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FileSource is a secret kept in a local file.
type FileSource struct {
	path string
}

// File returns the secret kept in the file at path.
func File(path string) *FileSource { return &FileSource{path: path} }

// Name implements Source.
func (f *FileSource) Name() string { return "file:" + f.path }

// Load implements Source.
func (f *FileSource) Load(_ context.Context) ([]byte, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("secret file %s does not exist: save the BTP service key or the connector fields there: %w", f.path, ErrNotFound)
	}
	if err != nil {
		// The *PathError names the path and the cause; the content was not read.
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	if err := checkContent(f.path, data); err != nil {
		return nil, err
	}
	return data, nil
}

// Save implements Source: the file is replaced atomically and readable by its owner only (0600).
func (f *FileSource) Save(_ context.Context, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("save secret file: %w", err)
	}
	if err := writeFileAtomic(f.path, data, 0o600); err != nil {
		return fmt.Errorf("save secret file %s: %w", f.path, err)
	}
	return nil
}

// writeFileAtomic replaces path with data through a synced temp file in the same directory and a
// rename, so a crash never leaves half a secret; the file is created with perm from the start.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*") // CreateTemp uses 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
