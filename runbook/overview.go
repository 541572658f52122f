package runbook

import (
	"fmt"
	"strings"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/sitegen"
)

func (w writer) overview() sitegen.Page {
	f := w.f
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", esc(fleetTitle(f)))
	if f.Meta.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", esc(f.Meta.Description))
	}
	b.WriteString("This runbook is generated from the fleet repo by `herofleet site build`. Every app, binary, role " +
		"and host named here exists in the fleet it was built from")
	if f.Commit != "" {
		fmt.Fprintf(&b, " (commit %s)", code(shortHash(f.Commit)))
	}
	b.WriteString(".\n\n")

	b.WriteString("## Topology\n\n![Topology: the VMs of each role, their apps, and the Mycelium links between them](/topology.svg)\n\n")
	w.topologyText(&b)

	b.WriteString("## Roles\n\n")
	var rows [][]string
	for _, r := range f.RoleNames() {
		role := f.Roles[r]
		var pre, cat []string
		for _, a := range role.Preinstalled {
			pre = append(pre, w.appLink(a))
		}
		for _, a := range role.Catalog {
			cat = append(cat, w.appLink(a))
		}
		var hosts []string
		for _, h := range w.hostsOf(r) {
			hosts = append(hosts, hostLink(h))
		}
		rows = append(rows, []string{w.roleLink(r), list(pre), list(cat), list(hosts)})
	}
	table(&b, []string{"Role", "Preinstalled", "Catalog (install on click)", "Hosts"}, rows)

	b.WriteString("## How a change reaches a VM\n\n")
	b.WriteString("1. An operator commits to the fleet repo (an app's `ref`, a role's catalog, a host file).\n")
	b.WriteString("2. Forgejo CI runs `herofleet validate --deep` and `herofleet plan --against` on the change; a bad " +
		"fleet never reaches a VM.\n")
	fmt.Fprintf(&b, "3. Every VM's `herofleet agent` polls the fleet repo (%s, with %s jitter) or syncs at once on the "+
		"push webhook, resolves what belongs on its host, and applies it: fetch, build, hooks, start every binary of "+
		"an app, wait for health.\n", code(schedule(f)), code(jitter(f)))
	b.WriteString("4. An app that fails any step is rolled back whole to its previous revision and quarantined until " +
		"its spec changes; the other apps carry on. The cockpit shows the state and the reason.\n")
	if len(f.Meta.Maintenance) > 0 {
		b.WriteString("5. Upgrades, restarts and removals wait for a maintenance window:")
		for _, m := range f.Meta.Maintenance {
			fmt.Fprintf(&b, " %s for %s;", code(m.Schedule), code(m.Duration.String()))
		}
		b.WriteString(" installing a missing app never waits.\n")
	}
	b.WriteString("\nSee [provision a tester](/procedures/provision-tester.md), [add an app](/procedures/add-app.md) " +
		"and [roll back a bad change](/procedures/rollback.md).\n")
	return sitegen.Page{Path: "", Title: fleetTitle(f), Markdown: []byte(b.String()), Source: "(generated) overview",
		Section: sectionStart, Weight: 0}
}

// topologyText says in words what the picture shows, for readers and for search.
func (w writer) topologyText(b *strings.Builder) {
	f := w.f
	for _, r := range f.RoleNames() {
		role := f.Roles[r]
		hosts := w.hostsOf(r)
		fmt.Fprintf(b, "- **%s**", esc(roleTitle(role)))
		if len(hosts) > 0 {
			var hs []string
			for _, h := range hosts {
				hs = append(hs, hostLink(h)+" "+code(hostAddress(f.Hosts[h], h)))
			}
			fmt.Fprintf(b, " (%s)", strings.Join(hs, ", "))
		}
		var pre []string
		for _, a := range role.Preinstalled {
			pre = append(pre, w.appLink(a))
		}
		fmt.Fprintf(b, " runs %s.", list(pre))
		if uses := w.roleUses(r); len(uses) > 0 {
			fmt.Fprintf(b, " It reaches %s over the Mycelium overlay network, authenticating as its own tester "+
				"(credentials from the VM's secrets dir, never from the fleet repo).", strings.Join(uses, " and "))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// roleUses lists the apps of other roles that a role's apps use, as links with the role providing them.
func (w writer) roleUses(role string) []string {
	r := w.f.Roles[role]
	seen := map[string]bool{}
	var out []string
	for _, a := range append(append([]string{}, r.Preinstalled...), r.Catalog...) {
		app := w.f.Apps[a]
		if app == nil {
			continue
		}
		for _, u := range app.Uses {
			if seen[u] {
				continue
			}
			seen[u] = true
			where := w.f.RolesPreinstalling(u)
			var rs []string
			for _, p := range where {
				rs = append(rs, w.roleLink(p))
			}
			out = append(out, fmt.Sprintf("%s on the %s", w.appLink(u), list(rs)))
		}
	}
	return out
}

func schedule(f *fleet.Fleet) string {
	if f.Meta.Sync.Schedule != "" {
		return f.Meta.Sync.Schedule
	}
	return fleet.DefaultSchedule
}

func jitter(f *fleet.Fleet) string { return f.Meta.Sync.Jitter.String() }

func shortHash(h string) string {
	if len(h) > 10 {
		return h[:10]
	}
	return h
}
