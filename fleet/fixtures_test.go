package fleet

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata fixtures")

// writeTree writes a txtar archive's files (all but the "want" section) under a new temp dir.
func writeTree(t *testing.T, a *txtar.Archive) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range a.Files {
		if f.Name == "want" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(string(f.Data), "symlink "); ok {
			if err := os.Symlink(strings.TrimSpace(target), p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestInvalidFixtures: each testdata/invalid/*.txtar is a fleet breaking one rule; its "want" section lists
// every error, exactly as a user sees them.
func TestInvalidFixtures(t *testing.T) {
	paths, _ := filepath.Glob("testdata/invalid/*.txtar")
	if len(paths) < 20 {
		t.Fatalf("found %d fixtures; expected one per rule", len(paths))
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = LoadDir(writeTree(t, a))
			var fe Errors
			if !errors.As(err, &fe) {
				t.Fatalf("want fleet.Errors, got %v", err)
			}
			got := err.Error() + "\n"
			if *update {
				for i := range a.Files {
					if a.Files[i].Name == "want" {
						a.Files[i].Data = []byte(got)
					}
				}
				if err := os.WriteFile(p, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := ""
			for _, f := range a.Files {
				if f.Name == "want" {
					want = string(f.Data)
				}
			}
			if got != want {
				t.Errorf("errors differ\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

func TestValidFixtures(t *testing.T) {
	paths, _ := filepath.Glob("testdata/valid/*.txtar")
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := LoadDir(writeTree(t, a)); err != nil {
				t.Fatalf("want a valid fleet, got:\n%v", err)
			}
		})
	}
}

// TestFIFOIsRefusedWithoutBlocking: a named pipe in the repo would block a plain read forever.
func TestFIFOIsRefusedWithoutBlocking(t *testing.T) {
	dir := writeTree(t, txtar.Parse([]byte("-- fleet.yaml --\nname: t\n")))
	os.MkdirAll(filepath.Join(dir, "apps"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(dir, "apps", "pipe.yaml"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	done := make(chan error, 1)
	go func() { _, err := LoadDir(dir); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "apps/pipe.yaml: not a regular file") {
			t.Fatalf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("loading a fleet with a FIFO blocked")
	}
}
