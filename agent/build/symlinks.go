package build

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// maxLinkHops bounds how many symlinks one path may go through (Linux's own limit is 40).
const maxLinkHops = 40

// writeSymlinks creates the tree's symlinks (slash path -> target) under dir once every regular file is written.
// A link is kept only when the path it leads to, resolved through the tree's other kept links exactly as the
// kernel would (never cleaned as text: "s/.." is the parent of where s leads), stays inside the tree. Dropping a
// link can change where others lead, so the check runs until no more links are dropped.
func writeSymlinks(dir string, links map[string]string) error {
	kept := make(map[string]string, len(links))
	for name, target := range links {
		kept[name] = target
	}
	for changed := true; changed; {
		changed = false
		for name, target := range kept {
			if !staysInside(kept, name, target) {
				delete(kept, name)
				changed = true
			}
		}
	}
	names := make([]string, 0, len(kept))
	for name := range kept {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.Symlink(kept[name], filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			return err
		}
	}
	return nil
}

// staysInside reports whether the link name -> target, among links, leads somewhere inside the tree.
func staysInside(links map[string]string, name, target string) bool {
	if path.IsAbs(target) {
		return false
	}
	var at []string // where the walk is, as components from the tree's root
	if d := path.Dir(name); d != "." {
		at = strings.Split(d, "/")
	}
	rest := strings.Split(target, "/")
	hops := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(at) == 0 {
				return false // above the tree's root
			}
			at = at[:len(at)-1]
			continue
		}
		next := strings.Join(append(at[:len(at):len(at)], c), "/")
		t, isLink := links[next]
		if !isLink {
			at = append(at, c)
			continue
		}
		if hops++; hops > maxLinkHops || path.IsAbs(t) {
			return false // a loop, or a link out of the tree on the way
		}
		rest = append(strings.Split(t, "/"), rest...)
	}
	return true
}
