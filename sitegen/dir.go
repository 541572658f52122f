package sitegen

import (
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
func ReadDir(fsys fs.FS) ([]Page, []File, error) {
	var pages []Page
	var files []File
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
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := readBounded(fsys, p)
		if err != nil {
			return err
		}
		if path.Ext(p) != ".md" {
			files = append(files, File{Path: p, Data: data})
			return nil
		}
		page := strings.TrimSuffix(p, ".md")
		if page == "index" {
			page = ""
		}
		page = strings.TrimSuffix(page, "/index")
		pages = append(pages, Page{Path: page, Markdown: data, Source: p})
		return nil
	})
	return pages, files, err
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
