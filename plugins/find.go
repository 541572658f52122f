package plugins

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/herofleet/herofleet/fleet"
)

// ExecutablePrefix starts the file name of every hook plugin: herofleet-plugin-<name>.
const ExecutablePrefix = "herofleet-plugin-"

// ErrNotFound is returned when no plugin directory holds an executable for a plugin name.
var ErrNotFound = errors.New("plugin not found")

// Dirs is the plugin search path of an agent, in order: the configured plugins_dir (if any), <stateDir>/plugins,
// then the folder of the running executable (where `make install` puts the shipped plugins beside herofleet).
func Dirs(configured, stateDir string) []string {
	var dirs []string
	if configured != "" {
		dirs = append(dirs, configured)
	}
	if stateDir != "" {
		dirs = append(dirs, filepath.Join(stateDir, "plugins"))
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		dirs = append(dirs, filepath.Dir(exe))
	}
	return dirs
}

// Find returns the path of the executable herofleet-plugin-<name> in the first of dirs that holds one.
// Empty entries in dirs are skipped.
func Find(dirs []string, name string) (string, error) {
	if !fleet.ValidName(name) {
		return "", fmt.Errorf("plugin name %q does not match %s", name, fleet.NamePattern)
	}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		path := filepath.Join(dir, ExecutablePrefix+name)
		if isExecutable(path) {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w: no executable %s%s in %s", ErrNotFound, ExecutablePrefix, name, strings.Join(nonEmpty(dirs), ", "))
}

// Available lists the names of the plugins found in dirs, sorted, each once.
func Available(dirs []string) []string {
	var names []string
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), ExecutablePrefix)
			if !ok || !fleet.ValidName(name) || !isExecutable(filepath.Join(dir, e.Name())) {
				continue
			}
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// isExecutable reports whether path (after symlinks) is a regular file with an execute bit.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func nonEmpty(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if d != "" {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return []string{"(no plugin directories)"}
	}
	return out
}
