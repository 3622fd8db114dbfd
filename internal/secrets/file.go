package secrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/calm-collector/calm-collector/internal/fsutil"
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
	if err := fsutil.WriteFileAtomic(f.path, data, 0o600); err != nil {
		return fmt.Errorf("save secret file %s: %w", f.path, err)
	}
	return nil
}
