package build

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// BinaryPath joins a binary's path onto the build tree and checks that, symlinks followed, it stays inside the
// tree and is an executable regular file.
func BinaryPath(tree, rel string) (string, error) {
	if filepath.IsAbs(rel) || strings.Contains("/"+rel+"/", "/../") {
		return "", fmt.Errorf("path %q leaves the build tree", rel)
	}
	p := filepath.Join(tree, filepath.FromSlash(rel))
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("path %s was not built: %w", rel, err)
	}
	root, err := filepath.EvalSymlinks(tree)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(real, root+string(filepath.Separator)) {
		return "", fmt.Errorf("path %q leaves the build tree (it resolves to %s)", rel, real)
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("path %s is not an executable file", rel)
	}
	return real, nil
}
