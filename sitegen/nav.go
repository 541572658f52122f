package sitegen

import (
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

// navCache keeps the sidebar of each (section, root prefix) pair: pages of one section share it and differ only in
// which link is marked current. The sidebar is the largest part of every page.
type navCache struct {
	nav nav
	mu  sync.Mutex
	m   map[[2]string]string
}

func newNavCache(n nav) *navCache { return &navCache{nav: n, m: map[[2]string]string{}} }

// forPage returns the sidebar for page p with its own link marked as the current page.
func (c *navCache) forPage(p *parsedPage, root string) string {
	key := [2]string{p.Section, root}
	if p.Path == "" {
		key[0] = "\x00home"
	}
	c.mu.Lock()
	side, ok := c.m[key]
	c.mu.Unlock()
	if !ok {
		side = navHTML(c.nav, p, root)
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

// navHTML writes the sidebar seen from the section of page p, with links relative to root.
func navHTML(n nav, p *parsedPage, root string) string {
	var sb strings.Builder
	for _, s := range n.Sections {
		open := s.Name == p.Section && (p.Path != "" || p.Section != "")
		sb.WriteString(`<div class="nav-section`)
		if open {
			sb.WriteString(` open`)
		}
		sb.WriteString(`">`)
		if s.Name != "" {
			sb.WriteString(`<div class="nav-title">`)
			sb.WriteString(html.EscapeString(s.Name))
			sb.WriteString(`</div>`)
		}
		sb.WriteString("<ul>\n")
		pages := s.Pages
		if !open && len(pages) > maxClosedSection {
			// A big section that is not the current one shows only its first page, to keep every page small.
			pages = pages[:1]
		}
		for _, sp := range pages {
			sb.WriteString(`<li><a href="`)
			sb.WriteString(root)
			sb.WriteString(pageURL(sp.Path))
			sb.WriteString(`">`)
			sb.WriteString(sp.escTitle)
			sb.WriteString("</a></li>\n")
		}
		sb.WriteString("</ul>\n</div>\n")
	}
	return sb.String()
}

// maxClosedSection is how many pages a section other than the current one may have and still be listed in full.
const maxClosedSection = 12
