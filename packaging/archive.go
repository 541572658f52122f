package packaging

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path"
	"time"
)

// writeTarGz writes files under the folder prefix/ as a reproducible tar.gz: entries in name order with their
// folders, owner root, the same time on every entry, and no time or name in the gzip header.
func writeTarGz(dest, prefix string, files []file, mtime time.Time) (err error) {
	f, err := os.Create(dest)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	gz, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	mtime = mtime.UTC().Truncate(time.Second)
	header := func(name string, mode int64, size int64, typ byte) *tar.Header {
		return &tar.Header{Typeflag: typ, Name: name, Mode: mode, Size: size, ModTime: mtime,
			Uname: "root", Gname: "root", Format: tar.FormatUSTAR}
	}
	seen := map[string]bool{}
	var dirs func(p string) error
	dirs = func(p string) error {
		if p == "." || seen[p] {
			return nil
		}
		if err := dirs(path.Dir(p)); err != nil {
			return err
		}
		seen[p] = true
		return tw.WriteHeader(header(prefix+"/"+p+"/", 0o755, 0, tar.TypeDir))
	}
	if err := tw.WriteHeader(header(prefix+"/", 0o755, 0, tar.TypeDir)); err != nil {
		return err
	}
	for _, fl := range files {
		if err := dirs(path.Dir(fl.name)); err != nil {
			return err
		}
		r, size, err := fl.open()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(header(prefix+"/"+fl.name, int64(fl.mode.Perm()), size, tar.TypeReg)); err != nil {
			r.Close()
			return err
		}
		_, err = io.Copy(tw, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// open reads a file's content from disk or memory.
func (fl file) open() (io.ReadCloser, int64, error) {
	if fl.source == "" {
		return io.NopCloser(bytes.NewReader(fl.data)), int64(len(fl.data)), nil
	}
	f, err := os.Open(fl.source)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// WriteArchive writes the release archive of one target, laid out as make release lays it out
// (herofleet_<version>_<os>_<arch>/herofleet, plugins/herofleet-plugin-*, the service files), from binaries
// already built: file name -> path. It is the archive an agent replaces itself with (fleet.yaml agent:); tests
// pack a herofleet they built with it.
func WriteArchive(dest, version string, t Target, built map[string]string, mtime time.Time) error {
	files, err := (&Release{Version: version}).layout(built)
	if err != nil {
		return err
	}
	return writeTarGz(dest, "herofleet_"+version+"_"+t.OS+"_"+t.Arch, files, mtime)
}
