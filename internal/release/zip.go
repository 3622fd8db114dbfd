package release

import (
	"archive/zip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// zipTime is every entry's modification time: the same inputs give the same zip, so a release
// is reproducible and Lambda sees no code change where there is none.
var zipTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ZipDir writes the files under dir into the zip file dst, in lexical order, keeping the
// executable bit (a Lambda bootstrap must be executable).
func ZipDir(dst, dir string) (err error) {
	f, err := os.Create(dst) //nolint:gosec // G304: the caller's output path
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		return addFile(zw, path, filepath.ToSlash(rel))
	})
	if err != nil {
		return err
	}
	return zw.Close()
}

// addFile adds the file at path to zw as name.
func addFile(zw *zip.Writer, path, name string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	h, err := zip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	h.Name, h.Method, h.Modified = name, zip.Deflate, zipTime
	h.SetMode(0o644)
	if info.Mode()&0o111 != 0 {
		h.SetMode(0o755)
	}
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	src, err := os.Open(path) //nolint:gosec // G304: a file under the directory being zipped
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(w, src)
	return err
}

// copyFile copies src to dst.
func copyFile(dst, src string) error {
	b, err := os.ReadFile(src) //nolint:gosec // G304: a file of the cloud assembly
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644) //nolint:gosec // G306: a public release file
}
