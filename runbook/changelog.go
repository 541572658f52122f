package runbook

import (
	"fmt"
	"strings"

	"github.com/herofleet/herofleet/sitegen"
)

func (w writer) changelog() sitegen.Page {
	var b strings.Builder
	b.WriteString("# Changelog\n\n")
	b.WriteString("Every commit to the fleet repo, newest first, with what it changed in the catalog. Agents apply " +
		"a commit only if it validates; a commit marked *refused* was never applied.\n\n")
	if w.opts.History == nil {
		b.WriteString("This runbook was built from a fleet directory without git history. Build it from a clone of the " +
			"fleet repo (`herofleet site build` in the work tree) to list its commits here, or read `git log` there.\n")
		return sitegen.Page{Path: "changelog", Title: "Changelog", Markdown: []byte(b.String()),
			Source: "(generated) changelog", Section: sectionHistory, Weight: weightHistory}
	}
	for _, c := range w.opts.History.Commits {
		fmt.Fprintf(&b, "## %s %s\n\n", c.When.Format("2006-01-02"), shortHash(c.Hash))
		fmt.Fprintf(&b, "**%s** — %s, %s UTC", esc(orDash(c.Subject)), esc(c.Author), c.When.Format("2006-01-02 15:04"))
		if c.Broken {
			b.WriteString(" — *refused: the fleet does not validate at this commit*")
		}
		b.WriteString("\n\n")
		var items []string
		for _, a := range c.Added {
			items = append(items, "added app "+w.appOrGone(a))
		}
		for _, a := range c.Changed {
			items = append(items, "changed app "+w.appOrGone(a))
		}
		for _, a := range c.Removed {
			items = append(items, "removed app **"+esc(a)+"**")
		}
		for _, r := range c.Roles {
			items = append(items, "changed role "+w.roleOrGone(r))
		}
		var hosts, pages []string
		for _, h := range c.Hosts {
			if _, ok := w.f.Hosts[h]; ok {
				hosts = append(hosts, hostLink(h))
			} else {
				hosts = append(hosts, "**"+esc(h)+"**")
			}
		}
		for _, p := range c.Pages {
			pages = append(pages, code(p))
		}
		items = append(items, summarized("changed host", "changed %d hosts", hosts)...)
		items = append(items, summarized("edited runbook page", "edited %d runbook pages", pages)...)
		for _, it := range items {
			b.WriteString("- " + it + "\n")
		}
		if len(items) > 0 {
			b.WriteString("\n")
		}
	}
	return sitegen.Page{Path: "changelog", Title: "Changelog", Markdown: []byte(b.String()),
		Source: "(generated) changelog", Section: sectionHistory, Weight: weightHistory}
}

// appOrGone links an app that still exists and names one that is gone in bold (never as code: gone names in code
// spans fail the build on purpose).
func (w writer) appOrGone(name string) string {
	if _, ok := w.f.Apps[name]; ok {
		return w.appLink(name)
	}
	return "**" + esc(name) + "**"
}

func (w writer) roleOrGone(name string) string {
	if _, ok := w.f.Roles[name]; ok {
		return w.roleLink(name)
	}
	return "**" + esc(name) + "**"
}

// maxItemsPerKind bounds what one commit lists of hosts or pages: a commit that touches thousands of them (the first
// one, a rename) must not make the changelog, a page read often, grow with the size of the fleet.
const maxItemsPerKind = 5

// summarized lists each of names as "one NAME", or, when there are more than maxItemsPerKind, one line with the
// count and the first few.
func summarized(one, many string, names []string) []string {
	if len(names) <= maxItemsPerKind {
		items := make([]string, len(names))
		for i, n := range names {
			items[i] = one + " " + n
		}
		return items
	}
	return []string{fmt.Sprintf(many, len(names)) + ": " + strings.Join(names[:maxItemsPerKind], ", ") +
		fmt.Sprintf(" and %d more", len(names)-maxItemsPerKind)}
}
