package sdk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/herofleet/herofleet/plugins"
)

// InDataDir returns path, cleaned, if it stays inside the app's data directory (call.DataDir) both as written and
// after following every symlink that exists on the way; a relative path is taken relative to the data directory.
// Anything else is an error: a hook writes only into its app's data.
func InDataDir(call plugins.Call, path string) (string, error) {
	if call.DataDir == "" || !filepath.IsAbs(call.DataDir) {
		return "", fmt.Errorf("the app's data directory %q is not an absolute path", call.DataDir)
	}
	root := filepath.Clean(call.DataDir)
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	path = filepath.Clean(path)
	if !within(root, path) {
		return "", fmt.Errorf("%s is outside the app's data directory %s", path, root)
	}
	realRoot, err := resolveExisting(root)
	if err != nil {
		return "", err
	}
	realPath, err := resolveExisting(path)
	if err != nil {
		return "", err
	}
	if !within(realRoot, realPath) {
		return "", fmt.Errorf("%s leads outside the app's data directory %s through a symlink (to %s)", path, root, realPath)
	}
	return path, nil
}

func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// resolveExisting follows the symlinks of the longest existing prefix of path and appends the rest, which cannot
// hold a symlink since it does not exist yet.
func resolveExisting(path string) (string, error) {
	rest := ""
	for p := path; ; p = filepath.Dir(p) {
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("resolve %s: %w", p, err)
		}
		if filepath.Dir(p) == p {
			return path, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}

// errNotRegular is returned for a secret that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// statRegular follows symlinks (secrets are often mounted as links) and requires a regular file.
func statRegular(path string) (os.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, errNotRegular)
	}
	return fi, nil
}
