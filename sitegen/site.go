package sitegen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// Page is one markdown page of a site.
type Page struct {
	// Path is the page's slash path without extension: "" is the home page, "apps/books" is written to
	// apps/books/index.html. Links in the markdown are relative to the file Path+".md", unless LinkDir is set.
	Path string
	// LinkDir is the slash directory relative links start from, for pages whose file is elsewhere: "a/index.md"
	// is page "a" but links from "a/". "." is the site root.
	LinkDir string
	// Title overrides the front matter title and the first level-1 heading.
	Title string
	// Markdown is the page source; it may start with YAML front matter (title, section, weight).
	Markdown []byte
	// Source names the page in error messages ("runbook/ops.md"); defaults to Path+".md".
	Source string
	// Section groups pages in the navigation (a front matter "section" overrides it); Weight orders pages (and
	// sections, by their lightest page).
	Section string
	Weight  int
}

// File is a static file copied into the site, such as an image a page links to.
type File struct {
	Path string // slash path inside the site, e.g. "img/topology.svg"
	Data []byte
}

// Site is everything a build renders.
type Site struct {
	Title string
	Pages []Page
	Files []File
	// CheckCode, when set, is called with the text of every inline code span; a non-empty answer is reported as a
	// build error at the span's file:line. It lets callers reject names that no longer exist.
	CheckCode func(code string) string
}

// Builder renders sites. The zero value is ready to use.
type Builder struct {
	// Workers bounds the pages parsed and rendered at once; 0 means GOMAXPROCS.
	Workers int
	// LiveReload, when set, is the URL path of a server-sent events endpoint the pages listen on to reload.
	LiveReload string
	Logger     *slog.Logger
}

// Build renders site into outDir with a default Builder.
func Build(ctx context.Context, site Site, outDir string) error {
	return Builder{}.Build(ctx, site, outDir)
}

// assetsDir holds the stylesheet, script and search index; pages may not live under it.
const assetsDir = "_assets"

// markerFile marks an output directory as ours, so that a rebuild may clear it.
const markerFile = ".sitegen"

var pathRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$`)

// Build renders site into outDir. outDir must be missing, empty, or a previous sitegen output (it is then cleared).
// All broken links and anchors are reported at once, each with the page source's file:line.
func (b Builder) Build(ctx context.Context, site Site, outDir string) error {
	if b.Workers <= 0 {
		b.Workers = runtime.GOMAXPROCS(0)
	}
	if b.Logger == nil {
		b.Logger = slog.New(slog.DiscardHandler)
	}
	if err := validateSite(site); err != nil {
		return err
	}
	pages, probs, err := b.parseAll(ctx, site)
	if err != nil {
		return err
	}
	if err := checkLinks(site, pages, probs); err != nil {
		return err
	}
	if err := prepareOutDir(outDir); err != nil {
		return err
	}
	nav := buildNav(pages)
	if err := b.renderAll(ctx, site, pages, nav, outDir); err != nil {
		return err
	}
	if err := writeAssets(outDir, pages); err != nil {
		return err
	}
	for _, f := range site.Files {
		if err := writeFile(outDir, f.Path, f.Data); err != nil {
			return err
		}
	}
	b.Logger.Debug("site built", "pages", len(pages), "files", len(site.Files), "out", outDir)
	return nil
}

func validateSite(site Site) error {
	var probs []Problem
	seen := map[string]bool{}
	for _, p := range site.Pages {
		if p.Path != "" && !pathRe.MatchString(p.Path) {
			probs = append(probs, problemf(p.source(), 0, "invalid page path %q", p.Path))
			continue
		}
		if p.Path == assetsDir || strings.HasPrefix(p.Path, assetsDir+"/") {
			probs = append(probs, problemf(p.source(), 0, "page path %q is reserved", p.Path))
		}
		if seen[p.Path] {
			probs = append(probs, problemf(p.source(), 0, "duplicate page path %q", p.Path))
		}
		seen[p.Path] = true
	}
	files := map[string]bool{}
	for _, f := range site.Files {
		switch {
		case !pathRe.MatchString(f.Path):
			probs = append(probs, problemf("", 0, "invalid file path %q", f.Path))
		case strings.HasPrefix(f.Path, assetsDir+"/") || f.Path == markerFile:
			probs = append(probs, problemf("", 0, "file path %q is reserved", f.Path))
		case files[f.Path] || seen[f.Path] || (path2page(f.Path) != f.Path && seen[path2page(f.Path)]):
			probs = append(probs, problemf("", 0, "file path %q clashes with another file or page", f.Path))
		}
		files[f.Path] = true
	}
	return Problems(probs)
}

// path2page maps "a/index.html" to the page "a" it would overwrite.
func path2page(p string) string {
	if p == "index.html" {
		return ""
	}
	return strings.TrimSuffix(p, "/index.html")
}

func (p Page) source() string {
	if p.Source != "" {
		return p.Source
	}
	if p.Path == "" {
		return "index.md"
	}
	return p.Path + ".md"
}

// prepareOutDir creates outDir, or clears it when a previous build left its marker there. Anything else is refused
// rather than deleted: a typo in --out must not wipe someone's directory.
func prepareOutDir(outDir string) error {
	entries, err := os.ReadDir(outDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read output dir: %w", err)
	case len(entries) == 0:
	default:
		if _, err := os.Stat(filepath.Join(outDir, markerFile)); err != nil {
			return fmt.Errorf("output dir %s is not empty and was not written by sitegen; refusing to clear it", outDir)
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(outDir, e.Name())); err != nil {
				return fmt.Errorf("clear output dir: %w", err)
			}
		}
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("create output dir: %w", err)
	}
	return os.WriteFile(filepath.Join(outDir, markerFile), []byte("built by herofleet sitegen\n"), 0o644)
}

// writeFile writes data at the slash path rel inside outDir; rel was validated against pathRe, so it cannot leave
// outDir, and the check below keeps that true even if validation changes.
func writeFile(outDir, rel string, data []byte) error {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return fmt.Errorf("refusing to write %q outside the output dir", rel)
	}
	dst := filepath.Join(outDir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}
