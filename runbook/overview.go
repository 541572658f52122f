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

	w.splitText(&b)
	w.freshVMText(&b)

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
			fmt.Fprintf(&b, " %s for %s;", code(m.Schedule), code(duration(m.Duration.Duration)))
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
				"(its own token, encrypted to it in the fleet repo and decrypted by its agent).", strings.Join(uses, " and "))
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

func jitter(f *fleet.Fleet) string { return duration(f.Meta.Sync.Jitter.Duration) }

func shortHash(h string) string {
	if len(h) > 10 {
		return h[:10]
	}
	return h
}

// splitText explains the division of labour the topology shows: roles whose apps other roles use host shared
// engines; the others hold per-VM data and UI and reach the engines over the overlay network.
func (w writer) splitText(b *strings.Builder) {
	var shared, users []string
	for _, r := range providersFirst(w.f) {
		if w.provides(r) {
			shared = append(shared, r)
		} else if len(w.roleUses(r)) > 0 {
			users = append(users, r)
		}
	}
	if len(shared) == 0 || len(users) == 0 {
		return
	}
	b.WriteString("## Shared engines, per-tester data\n\n")
	for _, r := range shared {
		var engines []string
		for _, a := range w.f.Roles[r].Preinstalled {
			if len(w.usersOf(a)) > 0 {
				engines = append(engines, w.appLink(a))
			}
		}
		fmt.Fprintf(b, "- The %s hosts the shared engines %s. Every tester VM calls them; they keep no tester's data, "+
			"so one instance serves the whole fleet and an upgrade there is one change for everyone.\n",
			w.roleLink(r), strings.Join(engines, " and "))
	}
	for _, r := range users {
		fmt.Fprintf(b, "- Each %s holds one tester's own data and UI. Its apps keep their state in their own data "+
			"directory on that VM (kept across upgrades and removal) and reach the engines over Mycelium, each "+
			"request authenticated as that tester.\n", w.roleLink(r))
	}
	b.WriteString("\n")
}

// provides reports whether a role preinstalls an app that some app uses.
func (w writer) provides(role string) bool {
	for _, a := range w.f.Roles[role].Preinstalled {
		if len(w.usersOf(a)) > 0 {
			return true
		}
	}
	return false
}

// usersOf lists the apps that use app, sorted.
func (w writer) usersOf(app string) []string {
	var out []string
	for _, n := range w.f.AppNames() {
		for _, u := range w.f.Apps[n].Uses {
			if u == app {
				out = append(out, n)
			}
		}
	}
	return out
}

// freshVMText summarises, for each role, the one command that takes a fresh VM to a converged one.
func (w writer) freshVMText(b *strings.Builder) {
	b.WriteString("## From a fresh VM to a converged one\n\n")
	b.WriteString("No VM is set up by hand. One command installs and starts the agent; the agent does the rest and " +
		"keeps doing it on every commit:\n\n```sh\n")
	for _, r := range providersFirst(w.f) {
		fmt.Fprintf(b, "herofleet bootstrap --fleet %s --role %s --host <name> --address <mycelium-address>\n", w.opts.FleetURL, r)
	}
	b.WriteString("```\n\n")
	for _, r := range providersFirst(w.f) {
		d, err := w.f.ForRole(r)
		if err != nil {
			continue
		}
		var apps []string
		for _, a := range d.Apps {
			apps = append(apps, w.appLink(a.Name))
		}
		fmt.Fprintf(b, "- A fresh %s converges to %s", w.roleLink(r), list(apps))
		if len(apps) > 1 {
			b.WriteString(", in that order")
		}
		if uses := w.roleUses(r); len(uses) > 0 {
			b.WriteString(", then reaches the shared engines")
		}
		b.WriteString(".\n")
	}
	b.WriteString("\nThe steps, checks and what to do when an app fails are on each role's page and in " +
		"[provision a tester](/procedures/provision-tester.md).\n\n")
}
