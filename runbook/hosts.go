package runbook

import (
	"fmt"
	"sort"
	"strings"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/sitegen"
)

func (w writer) hosts() sitegen.Page {
	f := w.f
	var b strings.Builder
	b.WriteString("# Hosts\n\n")
	b.WriteString("A host file (`hosts/<host>.yaml`) is optional: a VM without one runs its role as given in its agent " +
		"config. A host file fixes the VM's role and overlay address, adds apps beyond the role, and pins apps to a " +
		"ref (a branch, tag or commit) while the rest of the fleet moves on.\n\n")
	if len(f.Hosts) == 0 {
		b.WriteString("This fleet has no host files: every VM is described by its agent config alone.\n")
	}
	for _, h := range f.HostNames() {
		host := f.Hosts[h]
		fmt.Fprintf(&b, "## %s\n\n", h)
		fmt.Fprintf(&b, "- Role: %s\n- Address: %s (how other VMs reach it over Mycelium)\n- File: %s\n",
			w.roleLink(host.Role), code(hostAddress(host, h)), code(orDash(host.File)))
		if len(host.Add) > 0 {
			var adds []string
			for _, a := range host.Add {
				adds = append(adds, w.appLink(a))
			}
			fmt.Fprintf(&b, "- Adds: %s\n", strings.Join(adds, ", "))
		}
		if len(host.Pin) > 0 {
			apps := make([]string, 0, len(host.Pin))
			for a := range host.Pin {
				apps = append(apps, a)
			}
			sort.Strings(apps)
			var pins []string
			for _, a := range apps {
				pins = append(pins, w.appLink(a)+" at "+code(host.Pin[a]))
			}
			fmt.Fprintf(&b, "- Pins: %s\n", strings.Join(pins, ", "))
		}
		b.WriteString("\n")
		d, err := f.ForHost(h)
		if err != nil {
			fmt.Fprintf(&b, "This host does not resolve: %s\n\n", esc(err.Error()))
			continue
		}
		var rows [][]string
		for _, a := range d.Apps {
			for _, bin := range a.Binaries {
				if bin.URL == "" {
					continue
				}
				rows = append(rows, []string{w.appLink(a.Name), binaryLink(a.Name, bin.Name), code(expandHost(bin.URL, hostAddress(host, h)))})
			}
		}
		if len(rows) > 0 {
			b.WriteString("What the cockpit links to on this host:\n\n")
			table(&b, []string{"App", "Binary", "URL"}, rows)
		}
		w.hostSecrets(&b, h, d)
	}
	return sitegen.Page{Path: "hosts", Title: "Hosts", Markdown: []byte(b.String()), Source: "(generated) hosts",
		Section: sectionStart, Weight: 1}
}

// expandHost fills in ${host} for display, as the agent would (so $$ is a $); other variables are shown as written.
func expandHost(s, addr string) string {
	out, err := fleet.Expand(s, fleet.Vars{Host: addr, App: "${app}", Data: "${data}", Rev: "${rev}", Sockets: "${sockets}", Secrets: "${secrets}"})
	if err != nil {
		return s // a validated fleet has no bad variable; show it as written if one slips through
	}
	return out
}

// hostSecrets lists a host's secrets by name (never a value) and the apps whose hooks read each one.
func (w writer) hostSecrets(b *strings.Builder, host string, d *fleet.Desired) {
	files := w.f.SecretsOf(host)
	if len(files) == 0 {
		return
	}
	readers := map[string][]string{}
	for _, a := range d.Apps {
		for _, hk := range a.Hooks {
			if name, ok := hk.With["secret"].(string); ok {
				readers[name] = append(readers[name], w.appLink(a.Name)+" ("+code(hk.Plugin)+", "+hk.On+")")
			}
		}
	}
	b.WriteString("Secrets, decrypted by the agent into its secrets dir before any hook runs (names only; the values " +
		"are encrypted in the fleet repo to this host and the operators):\n\n")
	var rows [][]string
	for _, s := range files {
		by := strings.Join(readers[s.Name], ", ")
		if by == "" {
			by = "no hook names it (read by the app or an engine)"
		}
		rows = append(rows, []string{code(s.Name), by, code(s.File)})
	}
	table(b, []string{"Secret", "Read by", "File"}, rows)
}
