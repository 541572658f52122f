package apply

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/agent/build"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, body := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(rel, "bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// A manifest records every executable a binary starts, with a read-only pristine copy; an artifact's adds every
// file of the tree but the built marker and the pristine copies; an entry of the same build dir installed before is
// kept as it was.
func TestMakeManifest(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"bin/server": "server v1", "bin/web": "web v1", "share/page.html": "<p>", build.DoneMarker: "rev"})
	procs := []Proc{{Name: "server", Path: filepath.Join(root, "bin/server")}, {Name: "web", Path: filepath.Join(root, "bin/web")}}
	m, capped, err := makeManifest(root, procs, false, nil)
	if err != nil || capped {
		t.Fatal(err, capped)
	}
	if len(m) != 2 || m[0].Path != "bin/server" || !m[0].Exec || m[0].Size != 9 || m[0].Inode == 0 || m[0].Mode.Perm() != 0o755 {
		t.Fatalf("manifest %+v", m)
	}
	if sum, _ := hashFile(filepath.Join(root, "bin/server"), nil); m[0].SHA256 != sum || len(sum) != 64 {
		t.Fatalf("sha256 %s, file %s", m[0].SHA256, sum)
	}
	fi, err := os.Stat(pristinePath(root, "bin/server"))
	if err != nil || fi.Mode().Perm() != 0o555 {
		t.Fatalf("pristine copy: %v %v", fi, err)
	}

	art, _, err := makeManifest(root, procs[:1], true, nil)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range art {
		paths = append(paths, e.Path)
	}
	if strings.Join(paths, ",") != "bin/server,bin/web,share/page.html" || art[1].Exec {
		t.Fatalf("artifact manifest %v", paths)
	}

	// the same build dir again, after a hand change: the recorded entry stays the truth
	os.WriteFile(filepath.Join(root, "bin/server"), []byte("by hand"), 0o755)
	again, _, err := makeManifest(root, procs, false, m)
	if err != nil || again[0] != m[0] {
		t.Fatalf("kept entry %+v, was %+v (%v)", again[0], m[0], err)
	}
}

// An artifact of more files than MaxManifestFiles has its executables and its first files recorded, and says so.
func TestMakeManifestCapped(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{"bin/z": "exe"}
	for i := range MaxManifestFiles + 5 {
		files[filepath.Join("f", strconv.Itoa(i))] = "x"
	}
	writeTree(t, root, files)
	m, capped, err := makeManifest(root, []Proc{{Name: "z", Path: filepath.Join(root, "bin/z")}}, true, nil)
	if err != nil || !capped || len(m) != MaxManifestFiles || m[0].Path != "bin/z" {
		t.Fatalf("capped %v, %d entries, first %+v, %v", capped, len(m), m[0], err)
	}
}
