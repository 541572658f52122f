package sitegen

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// maxSourceBytes bounds every file read from a source tree.
const maxSourceBytes = 16 << 20

// ReadDir turns a tree of markdown files into pages ("a/b.md" becomes page "a/b", "index.md" the home page, and
// "a/index.md" page "a") and every other regular file into a static file. Names starting with "." are skipped.
// Pages in a folder are in the navigation section named after their top folder, unless their front matter says.
func ReadDir(fsys fs.FS) ([]Page, []File, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// Reading waits on the disk, so several files are read at once.
	data := make([][]byte, len(names))
	err = forEach(context.Background(), 8, len(names), func(i int) error {
		var err error
		data[i], err = readBounded(fsys, names[i])
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	var pages []Page
	var files []File
	for i, p := range names {
		if path.Ext(p) != ".md" {
			files = append(files, File{Path: p, Data: data[i]})
			continue
		}
		page := strings.TrimSuffix(p, ".md")
		if page == "index" {
			page = ""
		}
		page = strings.TrimSuffix(page, "/index")
		section, _, inFolder := strings.Cut(p, "/")
		if !inFolder {
			section = ""
		}
		pages = append(pages, Page{Path: page, Markdown: data[i], Source: p, LinkDir: path.Dir(p), Section: section})
	}
	return pages, files, nil
}

func readBounded(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSourceBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSourceBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxSourceBytes)
	}
	return data, nil
}
