package source

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/herofleet/herofleet/internal/gitserver"
)

// What a fetch killed half-way leaves in a clone is removed; the clone's own packs and refs stay and it still
// resolves without the server.
func TestClearInterruptedKeepsTheClone(t *testing.T) {
	srv, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	first, err := srv.Commit("books", "main", "v1", gitserver.Text(map[string]string{"README": "v1"}))
	if err != nil {
		t.Fatal(err)
	}
	c := &Cache{Dir: t.TempDir()}
	url := srv.RepoURL("books")
	if _, _, err := c.Resolve(context.Background(), url, "main"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	dir := c.repoDir(url)
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "pack-*"))
	if len(packs) == 0 {
		t.Fatal("the clone has no pack")
	}
	left := []string{
		filepath.Join(dir, "objects", "pack", "tmp_pack_824724776"),
		filepath.Join(dir, "objects", "pack", "tmp_obj_1234"),
		filepath.Join(dir, "._packed-refs5678"),
	}
	for _, p := range left {
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := ClearInterrupted(dir)
	slices.Sort(removed)
	slices.Sort(left)
	if err != nil || !slices.Equal(removed, left) {
		t.Fatalf("removed %v, %v; want %v", removed, err, left)
	}
	for _, p := range packs {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("a pack of the clone went: %v", err)
		}
	}
	if _, h, err := c.Resolve(context.Background(), url, first); err != nil || h.String() != first {
		t.Fatalf("the clone no longer resolves: %s %v", h, err)
	}
	if removed, err := ClearInterrupted(filepath.Join(t.TempDir(), "absent")); len(removed) != 0 || err != nil {
		t.Fatalf("an absent clone: %v %v", removed, err)
	}
}
