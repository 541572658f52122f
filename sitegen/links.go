package sitegen

import (
	"fmt"
	"net/url"
	"path"
	"strings"
)

// checkLinks resolves every local link and image of every page, rewrites it to a relative URL that works from
// file:// (directory pages end in index.html), and reports every broken target or #anchor with file:line, together
// with the problems parsing already found.
func checkLinks(site Site, pages []*parsedPage, probs []Problem) error {
	byPath := make(map[string]*parsedPage, len(pages))
	anchors := make(map[string]map[string]bool, len(pages))
	for _, p := range pages {
		byPath[p.Path] = p
		ids := make(map[string]bool, len(p.headings))
		for _, h := range p.headings {
			ids[h.ID] = true
		}
		anchors[p.Path] = ids
	}
	files := make(map[string]bool, len(site.Files))
	for _, f := range site.Files {
		files[f.Path] = true
	}
	for _, p := range pages {
		for _, l := range p.links {
			dest, msg := resolveLink(p.Path, p.linkDir(), l.dest, byPath, anchors, files)
			if msg != "" {
				probs = append(probs, Problem{File: p.source(), Line: l.line, Msg: msg})
				continue
			}
			l.dest = dest
		}
	}
	return Problems(probs)
}

// resolveLink returns the rewritten destination of a link written on page from, or a message saying why it is
// broken. External links (with a scheme or starting with //) are left alone.
func resolveLink(from, dir, dest string, pages map[string]*parsedPage, anchors map[string]map[string]bool, files map[string]bool) (string, string) {
	if dest == "" {
		return "", "empty link"
	}
	if u, err := url.Parse(dest); err == nil && u.Scheme != "" || strings.HasPrefix(dest, "//") {
		return dest, ""
	}
	target, frag, _ := strings.Cut(dest, "#")
	if f, err := url.PathUnescape(frag); err == nil {
		frag = f // heading ids may hold characters a link has to escape
	}
	if strings.Contains(target, "?") {
		return "", fmt.Sprintf("broken link %q: query strings are not supported on local links", dest)
	}
	if target == "" {
		if !anchors[from][frag] {
			return "", fmt.Sprintf("broken anchor %q: no heading with that id on this page", dest)
		}
		return dest, ""
	}
	var p string
	if strings.HasPrefix(target, "/") {
		p = path.Clean(strings.TrimPrefix(target, "/"))
	} else {
		p = path.Join(dir, target)
	}
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Sprintf("broken link %q: leaves the site", dest)
	}
	if p == "." {
		p = ""
	}
	root := rootPrefix(from)
	if files[p] {
		return root + p + fragSuffix(frag), ""
	}
	page := pageFor(p)
	if _, ok := pages[page]; !ok {
		return "", fmt.Sprintf("broken link %q: no page %q", dest, page)
	}
	if frag != "" && !anchors[page][frag] {
		return "", fmt.Sprintf("broken anchor %q: page %q has no heading with id %q", dest, page, frag)
	}
	return root + pageURL(page) + fragSuffix(frag), ""
}

// linkDir is the directory relative links of the page start from: LinkDir, else the folder of the file
// Path+".md", so that links resolve as they do when the markdown is read on a forge.
func (p Page) linkDir() string {
	if p.LinkDir != "" {
		return p.LinkDir
	}
	return path.Dir(p.Path + ".md")
}

// pageFor maps the ways a page can be named in a link ("a/b.md", "a/b/", "a/b/index.html", "a/index") to its path.
func pageFor(p string) string {
	for _, suffix := range []string{"/index.html", "/index.md", ".md", ".html", "/"} {
		p = strings.TrimSuffix(p, suffix)
	}
	if p == "index" {
		return ""
	}
	return p
}

// pageURL is the site-relative file of a page: its directory's index.html.
func pageURL(page string) string {
	if page == "" {
		return "index.html"
	}
	return page + "/index.html"
}

// rootPrefix climbs from a page's directory back to the site root.
func rootPrefix(page string) string {
	if page == "" {
		return ""
	}
	return strings.Repeat("../", strings.Count(page, "/")+1)
}

func fragSuffix(frag string) string {
	if frag == "" {
		return ""
	}
	return "#" + frag
}
