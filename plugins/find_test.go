package plugins

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFindAndAvailable(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	write := func(dir, name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/false\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(first, "herofleet-plugin-seed-git", 0o755)
	shadowed := write(second, "herofleet-plugin-seed-git", 0o755)
	cfg := write(second, "herofleet-plugin-config-file", 0o755)
	write(second, "herofleet-plugin-notexec", 0o644)
	write(second, "herofleet-plugin-Bad Name", 0o755)
	write(second, "herofleet", 0o755)
	if err := os.Mkdir(filepath.Join(second, "herofleet-plugin-adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	dirs := []string{"", filepath.Join(first, "missing"), first, second}

	if p, err := Find(dirs, "seed-git"); err != nil || filepath.Dir(p) != first || p == shadowed {
		t.Errorf("Find(seed-git) = %q, %v; want the one in the first dir", p, err)
	}
	if p, err := Find(dirs, "config-file"); err != nil || p != cfg {
		t.Errorf("Find(config-file) = %q, %v", p, err)
	}
	for _, name := range []string{"notexec", "adir", "nosuch"} {
		_, err := Find(dirs, name)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), second) {
			t.Errorf("Find(%s) err = %v, want ErrNotFound naming the dirs", name, err)
		}
	}
	if _, err := Find(dirs, "../herofleet"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Find(../herofleet) err = %v, want a bad-name error", err)
	}
	if got, want := Available(dirs), []string{"config-file", "seed-git"}; !slices.Equal(got, want) {
		t.Errorf("Available = %v, want %v", got, want)
	}
}

func TestDirs(t *testing.T) {
	got := Dirs("/usr/lib/herofleet/plugins", "/var/lib/herofleet")
	if len(got) != 3 || got[0] != "/usr/lib/herofleet/plugins" || got[1] != "/var/lib/herofleet/plugins" {
		t.Fatalf("Dirs = %v", got)
	}
	if got := Dirs("", "/var/lib/herofleet"); len(got) != 2 || got[0] != "/var/lib/herofleet/plugins" {
		t.Fatalf("Dirs without plugins_dir = %v", got)
	}
}

func TestClean(t *testing.T) {
	if got := clean("a\nb\x1b[31mc", 100); got != "a b [31mc" {
		t.Errorf("clean = %q", got)
	}
	if got := clean("héllo", 2); got != "h…" {
		t.Errorf("clean cut = %q", got)
	}
}
