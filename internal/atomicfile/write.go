package atomicfile

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path with data, with the given mode: it writes a temporary file beside path (same folder, so the
// rename stays on one file system), sets its mode before any byte is written, fsyncs it, renames it over path and
// fsyncs the folder so that the rename itself survives a crash. A symlink at path is replaced, not followed. After a
// failure path is untouched and the temporary file is gone. The folder must exist.
//
// Errors are those of the os package (they name the file involved); callers add their own context. The folder's
// fsync is best effort: some file systems refuse to fsync a directory, and the file itself is already safe then.
func Write(path string, data []byte, mode fs.FileMode) error {
	return WriteFrom(path, bytes.NewReader(data), mode)
}

// WriteFrom is Write with the content read from r (a file is copied without passing through memory whole).
func WriteFrom(path string, r io.Reader, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
