package sitegen

import (
	"sort"
	"strings"
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
			continue
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
