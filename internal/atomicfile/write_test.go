package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, path string) // what is at path before the write
		mode    fs.FileMode
		wantErr bool
		want    string      // content of path afterwards (a regular file), unless wantErr
		perm    fs.FileMode // its mode
	}{
		{name: "new file", mode: 0o600, want: "new", perm: 0o600},
		{
			name:  "file replaced",
			setup: func(t *testing.T, path string) { write(t, path, "old", 0o644) },
			mode:  0o600, want: "new", perm: 0o600,
		},
		{
			name:  "mode set, also wider than the old one",
			setup: func(t *testing.T, path string) { write(t, path, "old", 0o600) },
			mode:  0o755, want: "new", perm: 0o755,
		},
		{
			name: "symlink replaced, not followed",
			setup: func(t *testing.T, path string) {
				target := filepath.Join(filepath.Dir(path), "target")
				write(t, target, "target", 0o644)
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
			},
			mode: 0o600, want: "new", perm: 0o600,
		},
		{
			// A non-empty folder at path: the rename fails after the temp file was written.
			name:    "failed rename leaves no temporary file",
			setup:   func(t *testing.T, path string) { write(t, filepath.Join(path, "inner"), "x", 0o644) },
			mode:    0o600,
			wantErr: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if tc.setup != nil {
				tc.setup(t, path)
			}
			err := Write(path, []byte("new"), tc.mode)
			noTemp(t, dir, "f", "target")
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if !fi.Mode().IsRegular() {
				t.Fatalf("%s is %v, want a regular file", path, fi.Mode())
			}
			if got := fi.Mode().Perm(); got != tc.perm {
				t.Errorf("mode = %v, want %v", got, tc.perm)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("content = %q, want %q", b, tc.want)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "target")); err == nil && string(b) != "target" {
				t.Errorf("symlink target written through: %q", b)
			}
		})
	}
}

func TestWriteMissingFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "f")
	if err := Write(path, []byte("x"), 0o600); err == nil {
		t.Fatal("Write into a missing folder: no error")
	}
}

func write(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// noTemp fails if dir holds anything but the named entries.
func noTemp(t *testing.T, dir string, allowed ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for _, e := range entries {
		if !ok[e.Name()] {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
