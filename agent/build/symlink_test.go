package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/internal/gitserver"
)

// Symlinks are checked where they really lead, through the tree's other symlinks, not by their text: none of a
// checkout's links leads out of it, and the ones that stay inside are kept.
func TestCheckoutSymlinksStayInsideTheTree(t *testing.T) {
	repo, err := gitserver.InitBare(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	link := func(target string) gitserver.File { return gitserver.File{Data: []byte(target), Link: true} }
	rev, err := gitserver.Commit(repo, "main", "app", gitserver.Files{
		"d/file":   {Data: []byte("inside")},
		"d/s":      link(".."),       // the tree's root: inside
		"p":        link("d/s/.."),   // lexically "d", really the tree's parent
		"a":        link("d/s/../x"), // lexically "d/x", really a sibling of the tree
		"q":        link("p/x"),      // through p
		"loop1":    link("loop2"),
		"loop2":    link("loop1"),
		"ok":       link("d/file"),
		"d/ok2":    link("../d/s/d/file"),
		"abs":      link("/etc/passwd"),
		"plain.up": link("../x"),
	})
	if err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "tree")
	if err := Checkout(repo, plumbing.NewHash(rev), dir); err != nil {
		t.Fatal(err)
	}
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.Mode()&os.ModeSymlink == 0 {
			return err
		}
		target, _ := os.Readlink(p)
		real, err := resolveOnDisk(p)
		if err == nil && !strings.HasPrefix(real, dir+"/") && real != dir {
			t.Errorf("%s -> %s leads to %s, out of the tree", strings.TrimPrefix(p, dir+"/"), target, real)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, kept := range []string{"ok", "d/ok2", "d/s"} {
		if b, err := os.ReadFile(filepath.Join(dir, kept, map[string]string{"d/s": "d/file"}[kept])); err != nil || string(b) != "inside" {
			t.Errorf("%s was not kept: %v", kept, err)
		}
	}
}

// resolveOnDisk is where p leads, following every symlink; a target that does not exist is resolved as far as
// its folder.
func resolveOnDisk(p string) (string, error) {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r, nil
	}
	target, err := os.Readlink(p)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(target) {
		target = filepath.Dir(p) + "/" + target // not Join: that would clean "s/.." away lexically
	}
	i := strings.LastIndexByte(target, '/')
	dir, err := filepath.EvalSymlinks(target[:i])
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, target[i+1:]), nil
}
