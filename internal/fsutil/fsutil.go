// Package fsutil holds the crash-safe file writes the local stores share.
package fsutil

import (
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces path with data: it writes a temp file in the same directory (created
// with perm from the start), syncs it, renames it over path and syncs the directory, so readers
// and crashes see the old or the new content, never a part. Temp files are named ".<base>.tmp-*";
// one left behind by a crash is never read as the file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
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
	return SyncDir(dir)
}

// SyncDir flushes a directory's entries (a created, renamed or removed file) to disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
