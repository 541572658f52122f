package runbook

import (
	"fmt"
	"strings"

	"github.com/herofleet/herofleet/sitegen"
)

func (w writer) role(name string) sitegen.Page {
	f := w.f
	r := f.Roles[name]
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", esc(roleTitle(r)))
	if r.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", esc(r.Description))
	}
	fmt.Fprintf(&b, "Role %s, defined in %s.", code(name), code(orDash(r.File)))
	if hosts := w.hostsOf(name); len(hosts) > 0 {
		var hs []string
		for _, h := range hosts {
			hs = append(hs, hostLink(h))
		}
		fmt.Fprintf(&b, " Hosts with a host file: %s.", strings.Join(hs, ", "))
	}
	b.WriteString("\n\n## Preinstalled\n\n")
	d, err := f.ForRole(name)
	if err != nil {
		fmt.Fprintf(&b, "This role does not resolve: %s\n\n", esc(err.Error()))
	} else if len(d.Apps) == 0 {
		b.WriteString("Nothing: this role runs only what is installed on click.\n\n")
	} else {
		b.WriteString("Every VM of this role runs these apps, in this order (an app starts after the apps it needs):\n\n")
		var rows [][]string
		for _, a := range d.Apps {
			var bins []string
			for _, bin := range a.Binaries {
				bins = append(bins, binaryLink(a.Name, bin.Name)+" ("+bin.Kind+")")
			}
			rows = append(rows, []string{w.appLink(a.Name), strings.Join(bins, ", "), esc(a.Why)})
		}
		table(&b, []string{"App", "Binaries", "Why"}, rows)
	}
	b.WriteString("## Catalog: installed on click\n\n")
	if len(r.Catalog) == 0 {
		b.WriteString("This role offers nothing on click.\n\n")
	} else {
		b.WriteString("A tester installs these from the cockpit with one click; the agent installs the app together " +
			"with the apps it needs, remembers the choice across restarts, and shows the bundle as one row until a binary " +
			"is installed. See [one-click install](/procedures/one-click-install.md).\n\n")
		var rows [][]string
		for _, a := range r.Catalog {
			bundle, err := f.Bundle(a)
			var with []string
			for _, n := range bundle {
				if n != a {
					with = append(with, w.appLink(n))
				}
			}
			if err != nil {
				with = []string{esc(err.Error())}
			}
			app := f.Apps[a]
			desc := ""
			if app != nil {
				desc = esc(app.Description)
			}
			rows = append(rows, []string{w.appLink(a), list(with), desc})
		}
		table(&b, []string{"App", "Installs with it", "What it is"}, rows)
	}
	w.bringUp(&b, name)
	return sitegen.Page{Path: rolePath(name), Title: roleTitle(r), Markdown: []byte(b.String()),
		Source: "(generated) " + orDash(r.File), Section: sectionRoles, Weight: weightRoles}
}

// bringUp says how a fresh VM of the role converges with no manual step after bootstrap.
func (w writer) bringUp(b *strings.Builder, role string) {
	b.WriteString("## Bring up a fresh VM\n\n")
	b.WriteString("No step after the first command is manual. On a fresh Debian VM with the overlay network up:\n\n")
	fmt.Fprintf(b, "```sh\nherofleet bootstrap --fleet %s --role %s --host <name> --address <mycelium-address>\n```\n\n",
		w.opts.FleetURL, role)
	b.WriteString("1. `bootstrap` sets up the agent (its config names the fleet repo, host, role and address, and serves " +
		"`/metrics` read-only on the address, port 7072, where the fleet's Prometheus scrapes it; a bearer " +
		"token guards the cockpit's mutating calls) and starts `herofleet agent`.\n")
	b.WriteString("2. The agent clones the fleet repo, resolves this role (and `hosts/<name>.yaml` when it exists), and " +
		"installs every preinstalled app in the order above: fetch, build, hooks, start, health.\n")
	if uses := w.roleUses(role); len(uses) > 0 {
		fmt.Fprintf(b, "3. Apps that use %s find them at the address of the hosts that preinstall them; the "+
			"tester authenticates with its own token, issued by `herofleet secrets issue` and decrypted by the agent into its secrets dir.\n", strings.Join(uses, " and "))
	}
	b.WriteString("\nThe VM is converged when the cockpit (or `herofleet status`) shows every binary `running` and the " +
		"fleet state `ok` at the fleet's newest commit.\n")
}
