package build

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Checkout writes the tree of commit h into dir, which must not exist yet. Symlinks are written last and only
// when they really lead inside the tree (see writeSymlinks).
func Checkout(repo *git.Repository, h plumbing.Hash, dir string) error {
	c, err := repo.CommitObject(h)
	if err != nil {
		return fmt.Errorf("checkout %s: %w", h, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return fmt.Errorf("checkout %s: %w", h, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkout: %w", err)
	}
	links := map[string]string{} // written last, once checked (see writeSymlinks)
	err = tree.Files().ForEach(func(f *object.File) error { return writeTreeFile(dir, f, links) })
	if err == nil {
		err = writeSymlinks(dir, links)
	}
	if err != nil {
		return fmt.Errorf("checkout %s: %w", h, err)
	}
	return nil
}

// writeTreeFile writes a regular file; a symlink is only noted in links: no file is ever written through one.
func writeTreeFile(dir string, f *object.File, links map[string]string) error {
	name := f.Name
	if path.IsAbs(name) || path.Clean(name) != name || strings.HasPrefix(name, "../") || name == ".." || strings.HasPrefix(name, ".git/") {
		return fmt.Errorf("refusing tree path %q", name)
	}
	dst := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	switch f.Mode {
	case filemode.Symlink:
		target, err := f.Contents()
		if err != nil {
			return err
		}
		links[name] = target
		return nil
	case filemode.Regular, filemode.Executable, filemode.Deprecated:
	default:
		return nil // submodules and the like are not checked out
	}
	perm := os.FileMode(0o644)
	if f.Mode == filemode.Executable {
		perm = 0o755
	}
	r, err := f.Reader()
	if err != nil {
		return err
	}
	defer r.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	return errors.Join(err, out.Close())
}
