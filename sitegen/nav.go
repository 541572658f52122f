package sitegen

import (
	"fmt"
	"html"
	"sort"
	"strings"
	"sync"
)

// navSection is one group of the sidebar. Sections are ordered by their lightest page, then by name; pages by
// weight, then title, then path, so that the order never depends on input order.
type navSection struct {
	Name  string
	Pages []*parsedPage
}

type nav struct {
	Home     *parsedPage // the page at "", if any
	Sections []navSection
}

func buildNav(pages []*parsedPage) nav {
	var n nav
	bySection := map[string][]*parsedPage{}
	for _, p := range pages {
		if p.Path == "" {
			n.Home = p
			if p.Section == "" {
				continue // reached through the site title; listed only when it names a section
			}
		}
		bySection[p.Section] = append(bySection[p.Section], p)
	}
	for name, ps := range bySection {
		sort.Slice(ps, func(i, j int) bool { return lessPage(ps[i], ps[j]) })
		for i, p := range ps {
			p.navIndex = i
		}
		n.Sections = append(n.Sections, navSection{Name: name, Pages: ps})
	}
	sort.Slice(n.Sections, func(i, j int) bool {
		a, b := n.Sections[i], n.Sections[j]
		if a.Pages[0].Weight != b.Pages[0].Weight {
			return a.Pages[0].Weight < b.Pages[0].Weight
		}
		return a.Name < b.Name
	})
	return n
}

func lessPage(a, b *parsedPage) bool {
	if a.Weight != b.Weight {
		return a.Weight < b.Weight
	}
	if a.Title != b.Title {
		return strings.ToLower(a.Title) < strings.ToLower(b.Title)
	}
	return a.Path < b.Path
}

// navCache keeps the sidebar of each (section, group, root prefix): pages of one group share it and differ only in
// which link is marked current.
type navCache struct {
	nav nav
	mu  sync.Mutex
	m   map[navKey]string
}

type navKey struct {
	section string
	group   int
	root    string
}

func newNavCache(n nav) *navCache { return &navCache{nav: n, m: map[navKey]string{}} }

// forPage returns the sidebar for page p with its own link marked as the current page.
func (c *navCache) forPage(p *parsedPage, root string) string {
	key := navKey{section: p.Section, group: p.navIndex / navGroupSize, root: root}
	if p.Path == "" {
		key.section = "\x00home"
	}
	c.mu.Lock()
	side, ok := c.m[key]
	c.mu.Unlock()
	if !ok {
		side = navHTML(c.nav, p, key.group, root)
		c.mu.Lock()
		c.m[key] = side
		c.mu.Unlock()
	}
	link := `<a href="` + root + pageURL(p.Path) + `">`
	if i := strings.Index(side, link); i >= 0 {
		j := i + len(link) - 1
		return side[:j] + ` aria-current="page"` + side[j:]
	}
	return side
}

// navGroupSize is how many pages of a section the sidebar lists at once: a bigger section is paged into groups of
// this size, and a page lists its own group's pages and one link to the start of every other group.
const navGroupSize = 50

// navHTML writes the sidebar seen from page p: every section's title, linked to its first page, and the pages of
// p's own section (of its group, when the section is paged), with links relative to root. What a page carries does
// not grow with the pages of other sections.
func navHTML(n nav, p *parsedPage, group int, root string) string {
	var sb strings.Builder
	link := func(class string, sp *parsedPage, text string) {
		sb.WriteString(`<a`)
		if class != "" {
			sb.WriteString(` class="` + class + `"`)
		}
		sb.WriteString(` href="`)
		sb.WriteString(root)
		sb.WriteString(pageURL(sp.Path))
		sb.WriteString(`">`)
		sb.WriteString(text)
		sb.WriteString("</a>")
	}
	for _, s := range n.Sections {
		open := s.Name == p.Section && (p.Path != "" || p.Section != "")
		if !open {
			sb.WriteString(`<div class="nav-section">`)
			if s.Name != "" {
				link("nav-title", s.Pages[0], html.EscapeString(s.Name))
			} else {
				sb.WriteString("<ul>\n<li>")
				link("", s.Pages[0], s.Pages[0].escTitle)
				sb.WriteString("</li>\n</ul>\n")
			}
			sb.WriteString("</div>\n")
			continue
		}
		sb.WriteString(`<div class="nav-section open">`)
		if s.Name != "" {
			sb.WriteString(`<div class="nav-title">`)
			sb.WriteString(html.EscapeString(s.Name))
			sb.WriteString(`</div>`)
		}
		sb.WriteString("<ul>\n")
		for start := 0; start < len(s.Pages); start += navGroupSize {
			end := min(start+navGroupSize, len(s.Pages))
			if len(s.Pages) > navGroupSize && start/navGroupSize != group {
				sb.WriteString(`<li class="nav-group">`)
				link("", s.Pages[start], fmt.Sprintf("Pages %d–%d of %d", start+1, end, len(s.Pages)))
				sb.WriteString("</li>\n")
				continue
			}
			for _, sp := range s.Pages[start:end] {
				sb.WriteString("<li>")
				link("", sp, sp.escTitle)
				sb.WriteString("</li>\n")
			}
		}
		sb.WriteString("</ul>\n</div>\n")
	}
	return sb.String()
}
