package artifact

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// epoch is the modification time of every entry: the same tree always gives the same bytes.
var epoch = time.Unix(0, 0).UTC()

// Pack writes dir as a gzipped tar to w: entries sorted, owners and times zeroed, modes reduced to 0644/0755.
// Symlinks are kept only when they stay inside dir. It returns the archive's sha256.
func Pack(dir string, w io.Writer, skip func(rel string) bool) (string, error) {
	h := sha256.New()
	gz, err := gzip.NewWriterLevel(io.MultiWriter(w, h), gzip.BestCompression)
	if err != nil {
		return "", err
	}
	tw := tar.NewWriter(gz)
	var paths []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skip != nil && skip(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		paths = append(paths, rel)
		return nil
	})
	if err != nil {
		return "", err
	}
	slices.Sort(paths)
	for _, rel := range paths {
		if err := addEntry(tw, dir, rel); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := gz.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func addEntry(tw *tar.Writer, dir, rel string) error {
	full := filepath.Join(dir, filepath.FromSlash(rel))
	st, err := os.Lstat(full)
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: rel, ModTime: epoch, Format: tar.FormatPAX, Mode: 0o644}
	switch {
	case st.IsDir():
		hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, rel+"/", 0o755
	case st.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(full)
		if err != nil {
			return err
		}
		if !linkStaysInside(rel, target) {
			return fmt.Errorf("%s: symlink to %s leaves the tree", rel, target)
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case st.Mode().IsRegular():
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size()
		if st.Mode()&0o111 != 0 {
			hdr.Mode = 0o755
		}
	default:
		return fmt.Errorf("%s: not a file, folder or symlink", rel)
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	f, err := os.Open(full)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}

// linkStaysInside says whether a symlink at rel pointing to target resolves inside the tree.
func linkStaysInside(rel, target string) bool {
	if path.IsAbs(target) || filepath.IsAbs(target) {
		return false
	}
	joined := path.Join(path.Dir(rel), target)
	return joined != ".." && !strings.HasPrefix(joined, "../")
}

// Limits bound what an archive may unpack to.
type Limits struct {
	MaxBytes  int64 // the downloaded archive
	MaxFiles  int
	MaxUnpack int64 // total size of the files unpacked
}

// DefaultLimits suit a built app: a few GiB at most.
var DefaultLimits = Limits{MaxBytes: 2 << 30, MaxFiles: 200_000, MaxUnpack: 8 << 30}

// ErrChecksum means the archive is not the one the fleet names.
var ErrChecksum = errors.New("sha256 mismatch")

// Unpack extracts the gzipped tar in archive (a file already checked against its sha256) into dest, which must
// not exist yet: the caller renames dest into place only when everything went well.
func Unpack(archive, dest string, lim Limits) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("not a gzipped tar: %w", err)
	}
	if err := os.Mkdir(dest, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(gz)
	var files int
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		if files++; files > lim.MaxFiles {
			return fmt.Errorf("archive holds more than %d entries", lim.MaxFiles)
		}
		name, err := entryName(hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("%s: %w", hdr.Name, err)
			}
		case tar.TypeReg:
			if total += hdr.Size; total > lim.MaxUnpack {
				return fmt.Errorf("archive unpacks to more than %d bytes", lim.MaxUnpack)
			}
			if err := WriteEntry(root, name, tr, hdr, false); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if !linkStaysInside(name, hdr.Linkname) {
				return fmt.Errorf("archive entry %s: symlink to %s leaves the target directory", hdr.Name, hdr.Linkname)
			}
			if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
				return err
			}
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return fmt.Errorf("%s: %w", hdr.Name, err)
			}
		default:
			return fmt.Errorf("archive entry %s: type %q is not a file, folder or symlink", hdr.Name, hdr.Typeflag)
		}
	}
}

// entryName cleans an archive entry's name and refuses one that would leave the target.
func entryName(name string) (string, error) {
	clean := path.Clean(strings.TrimSuffix(name, "/"))
	if name == "" || path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(name, `\`) {
		return "", fmt.Errorf("archive entry %q leaves the target directory", name)
	}
	return clean, nil
}

// WriteEntry writes the regular file hdr of a tar archive, read from r, at name under root (its folders made, never
// through a symlink, never over an existing file), 0755 when any execute bit is set, else 0644. With sync it is on
// disk before WriteEntry returns: what a record will name after a power cut.
func WriteEntry(root *os.Root, name string, r io.Reader, hdr *tar.Header, sync bool) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
	}
	mode := os.FileMode(0o644)
	if hdr.Mode&0o111 != 0 {
		mode = 0o755
	}
	// os.Root refuses to write through a symlink that an earlier entry planted to point outside.
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("%s: %w", hdr.Name, err)
	}
	if _, err := io.CopyN(f, r, hdr.Size); err != nil {
		f.Close()
		return fmt.Errorf("%s: truncated archive: %w", hdr.Name, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
