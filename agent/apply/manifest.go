package apply

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/herofleet/herofleet/agent/build"
	"github.com/herofleet/herofleet/internal/atomicfile"
)

// ManifestEntry is one file an installed app runs, as it was when the app was installed: what the drift check
// compares the file on disk with. The stat fields make the cheap check; sha256 the full one.
type ManifestEntry struct {
	Path   string      `json:"path"` // relative to the build dir, slashes
	Size   int64       `json:"size"`
	Mode   fs.FileMode `json:"mode"`
	MTime  time.Time   `json:"mtime"`
	Inode  uint64      `json:"inode"`
	SHA256 string      `json:"sha256"`
	Exec   bool        `json:"exec,omitempty"` // a binary starts it: a pristine copy is kept (PristineDir)
}

// Bounds of a manifest: an artifact unpacking more files than MaxManifestFiles has only its first ones (the
// executables first) checked, and says so (Installed.ManifestCapped).
const (
	MaxManifestFiles = 1024
	hashBufferSize   = 64 << 10
)

// PristineDir holds, inside a build dir, a read-only copy of each executable its binaries start, made when the app
// is installed: a heal copies an executable back from it. The artifact's walk and the manifest leave it out.
const PristineDir = ".herofleet-pristine"

var hashBuffers = sync.Pool{New: func() any { b := make([]byte, hashBufferSize); return &b }}

// hashFile is a file's sha256, read through one bounded buffer; pace, when set, is called after each read with its
// size (the full check's I/O bound).
func hashFile(path string, pace func(n int)) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	bp := hashBuffers.Get().(*[]byte)
	defer hashBuffers.Put(bp)
	h := sha256.New()
	for {
		n, err := f.Read(*bp)
		if n > 0 {
			h.Write((*bp)[:n])
			if pace != nil {
				pace(n)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// statEntry fills an entry's stat fields from fi.
func statEntry(e *ManifestEntry, fi fs.FileInfo) {
	e.Size, e.Mode, e.MTime = fi.Size(), fi.Mode(), fi.ModTime().UTC()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		e.Inode = st.Ino
	}
}

// makeManifest records what an app runs from its build dir: every executable of procs, and for an artifact every
// regular file of the unpacked tree, at most MaxManifestFiles. An entry of prev (the manifest of the same build dir
// installed before, an args change or a rollback) is kept as it was: a tree changed since is not taken as the
// truth. Each new executable gets its pristine copy.
func makeManifest(buildDir string, procs []Proc, artifact bool, prev []ManifestEntry) (out []ManifestEntry, capped bool, err error) {
	root, err := filepath.EvalSymlinks(buildDir)
	if err != nil {
		return nil, false, err
	}
	known := map[string]ManifestEntry{}
	for _, e := range prev {
		known[e.Path] = e
	}
	seen := map[string]bool{}
	add := func(rel string, exec bool) error {
		if seen[rel] {
			return nil
		}
		if len(out) >= MaxManifestFiles {
			capped = true
			return nil
		}
		seen[rel] = true
		if e, ok := known[rel]; ok && e.Exec == exec {
			out = append(out, e)
			return nil
		}
		e := ManifestEntry{Path: rel, Exec: exec}
		path := filepath.Join(root, filepath.FromSlash(rel))
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		statEntry(&e, fi)
		if e.SHA256, err = hashFile(path, nil); err != nil {
			return err
		}
		if exec {
			if err := keepPristine(root, e); err != nil {
				return fmt.Errorf("pristine copy of %s: %w", rel, err)
			}
		}
		out = append(out, e)
		return nil
	}
	for _, p := range procs {
		rel, err := filepath.Rel(root, p.Path)
		if err != nil {
			return nil, false, err
		}
		if err := add(filepath.ToSlash(rel), true); err != nil {
			return nil, false, fmt.Errorf("manifest: %w", err)
		}
	}
	if !artifact {
		return out, capped, nil
	}
	var files []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir() && rel == PristineDir:
			return fs.SkipDir
		case !d.Type().IsRegular(), rel == build.DoneMarker:
			return nil
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("manifest: %w", err)
	}
	slices.Sort(files)
	for _, rel := range files {
		if err := add(rel, false); err != nil {
			return nil, false, fmt.Errorf("manifest: %w", err)
		}
	}
	return out, capped, nil
}

// pristinePath is where a build dir keeps the pristine copy of one of its executables.
func pristinePath(root, rel string) string {
	return filepath.Join(root, PristineDir, filepath.FromSlash(rel))
}

// keepPristine makes the read-only pristine copy of an executable unless one with its sha256 is there.
func keepPristine(root string, e ManifestEntry) error {
	dst := pristinePath(root, e.Path)
	if sum, err := hashFile(dst, nil); err == nil && sum == e.SHA256 {
		return nil
	}
	return copyFile(filepath.Join(root, filepath.FromSlash(e.Path)), dst, e.Mode.Perm()&^0o222)
}

// copyFile copies src to dst through a temporary file renamed into place: dst is a new file (a new inode), whole or
// not at all.
func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFrom(dst, in, perm)
}
