package runbook

import (
	"fmt"
	"html"
	"slices"
	"sort"
	"strings"

	"github.com/herofleet/herofleet/fleet"
)

// Layout of the topology picture, in SVG user units.
const (
	colWidth   = 320
	colGap     = 210
	margin     = 24
	rowHeight  = 34
	rowGap     = 8
	headHeight = 82
)

type column struct {
	role string
	x    int
	h    int
	rows map[string]int // app -> y of the row's centre
}

// Topology draws the fleet as an SVG: one box per role (the VMs of that role, named by their host files), the apps
// each runs (preinstalled solid, catalog dashed), and an arrow for every `uses` from an app to the role that
// preinstalls the used app, labelled with the overlay network it crosses. The same fleet gives the same bytes.
func Topology(f *fleet.Fleet) []byte {
	roles := providersFirst(f)
	cols := make([]*column, len(roles))
	height := 0
	for i, r := range roles {
		c := &column{role: r, x: margin + i*(colWidth+colGap), rows: map[string]int{}}
		y := margin + headHeight
		role := f.Roles[r]
		for _, a := range role.Preinstalled {
			c.rows[a] = y + rowHeight/2
			y += rowHeight + rowGap
		}
		if len(role.Catalog) > 0 {
			y += 26 // the "catalog" caption
			for _, a := range role.Catalog {
				if _, ok := c.rows[a]; !ok {
					c.rows[a] = y + rowHeight/2
					y += rowHeight + rowGap
				}
			}
		}
		c.h = y - margin + 8
		height = max(height, c.h)
		cols[i] = c
	}
	width := margin*2 + len(roles)*colWidth + max(0, len(roles)-1)*colGap
	height += margin*2 + 30

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, sans-serif" font-size="13">`+"\n", width, height, width, height)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8250df"/></marker></defs>` + "\n")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	for _, c := range cols {
		drawColumn(&b, f, c)
	}
	drawUses(&b, f, cols)
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#59636e">→ uses: reached over the Mycelium overlay network, with per-tester auth · dashed: installed on click</text>`+"\n", margin, height-margin/2-4)
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// providersFirst orders roles so that those preinstalling something other roles use come first (on the left).
func providersFirst(f *fleet.Fleet) []string {
	provides := map[string]bool{}
	for _, a := range f.AppNames() {
		for _, u := range f.Apps[a].Uses {
			for _, r := range f.RolesPreinstalling(u) {
				provides[r] = true
			}
		}
	}
	roles := f.RoleNames()
	sort.SliceStable(roles, func(i, j int) bool { return provides[roles[i]] && !provides[roles[j]] })
	return roles
}

func drawColumn(b *strings.Builder, f *fleet.Fleet, c *column) {
	role := f.Roles[c.role]
	fmt.Fprintf(b, `<g><rect x="%d" y="%d" width="%d" height="%d" rx="10" fill="#f6f8fa" stroke="#d1d9e0"/>`+"\n", c.x, margin, colWidth, c.h)
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="16" font-weight="700" fill="#1f2328">%s</text>`+"\n", c.x+16, margin+26, x(roleTitle(role)))
	var hosts []string
	for _, h := range f.HostNames() {
		if host := f.Hosts[h]; host.Role == c.role {
			hosts = append(hosts, h+" "+hostAddress(host, h))
		}
	}
	sub := "role " + c.role
	if len(hosts) > 0 {
		sub += " · " + strings.Join(hosts, ", ")
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" fill="#59636e">%s</text>`+"\n", c.x+16, margin+46, x(sub))
	if what := roleKind(f, c.role); what != "" {
		fmt.Fprintf(b, `<text x="%d" y="%d" font-size="12" font-style="italic" fill="#8250df">%s</text>`+"\n", c.x+16, margin+64, x(what))
	}
	if len(role.Catalog) > 0 {
		first := -1
		for _, a := range role.Catalog {
			if y := c.rows[a]; first < 0 || y < first {
				first = y
			}
		}
		fmt.Fprintf(b, `<text x="%d" y="%d" font-size="11" fill="#59636e">CATALOG · INSTALLED ON CLICK</text>`+"\n", c.x+16, first-rowHeight/2-8)
	}
	apps := make([]string, 0, len(c.rows))
	for a := range c.rows {
		apps = append(apps, a)
	}
	sort.Slice(apps, func(i, j int) bool { return c.rows[apps[i]] < c.rows[apps[j]] })
	for _, a := range apps {
		y := c.rows[a] - rowHeight/2
		dash := ""
		if !slices.Contains(role.Preinstalled, a) {
			dash = ` stroke-dasharray="5 4"`
		}
		title := a
		if app := f.Apps[a]; app != nil {
			title = appTitle(app)
		}
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" rx="6" fill="#ffffff" stroke="#0969da"%s/>`+"\n", c.x+16, y, colWidth-32, rowHeight, dash)
		fmt.Fprintf(b, `<text x="%d" y="%d" fill="#1f2328">%s <tspan fill="#59636e" font-size="11">%s</tspan></text>`+"\n", c.x+28, y+21, x(title), x(a))
	}
	b.WriteString("</g>\n")
}

// drawUses draws one arrow per (app, used app, providing role) from the user's row to the provider's row.
func drawUses(b *strings.Builder, f *fleet.Fleet, cols []*column) {
	for _, uc := range cols {
		apps := make([]string, 0, len(uc.rows))
		for a := range uc.rows {
			apps = append(apps, a)
		}
		sort.Strings(apps)
		for _, a := range apps {
			app := f.Apps[a]
			if app == nil {
				continue
			}
			for _, u := range app.Uses {
				for _, pc := range cols {
					py, ok := pc.rows[u]
					if pc == uc || !ok || !slices.Contains(f.Roles[pc.role].Preinstalled, u) {
						continue
					}
					uy := uc.rows[a]
					x1, x2 := uc.x, pc.x+colWidth // user on the right of the provider
					if pc.x > uc.x {
						x1, x2 = uc.x+colWidth, pc.x
					}
					fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#8250df" stroke-width="1.5" marker-end="url(#arrow)"/>`+"\n", x1, uy, x2, py)
					// Labels sit near the user's end, where arrows from different rows are still apart.
					mx, my := x1+(x2-x1)*3/10, uy+(py-uy)*3/10
					fmt.Fprintf(b, `<text x="%d" y="%d" font-size="10" fill="#8250df" text-anchor="middle" paint-order="stroke" stroke="#ffffff" stroke-width="3">Mycelium</text>`+"\n", mx, my-3)
				}
			}
		}
	}
}

// roleKind names a role's part in the split: it hosts engines other roles use, or it uses them.
func roleKind(f *fleet.Fleet, role string) string {
	w := writer{f: f}
	switch {
	case w.provides(role):
		return "shared stateless engines"
	case len(w.roleUses(role)) > 0:
		return "one per tester: its own data and UI"
	}
	return ""
}

func x(s string) string { return html.EscapeString(s) }
