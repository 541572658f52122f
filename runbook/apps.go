package runbook

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/herofleet/herofleet/fleet"

	"github.com/herofleet/herofleet/sitegen"
)

func (w writer) app(name string) sitegen.Page {
	f := w.f
	a := f.Apps[name]
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", esc(appTitle(a)))
	if a.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", esc(a.Description))
	}
	fmt.Fprintf(&b, "App %s, defined in %s. Its binaries are installed, upgraded, started and rolled back together: "+
		"never half an app.\n\n", code(name), code(orDash(a.File)))

	b.WriteString("## Where it runs\n\n")
	var where []string
	for _, r := range f.RolesPreinstalling(name) {
		where = append(where, "preinstalled on every VM of role "+w.roleLink(r))
	}
	for _, r := range f.RolesOffering(name) {
		where = append(where, "installed on click on VMs of role "+w.roleLink(r))
	}
	for _, h := range w.hostsAdding(name) {
		where = append(where, "added on "+hostLink(h))
	}
	if users := w.neededBy(name); len(users) > 0 {
		where = append(where, "installed with "+strings.Join(users, ", ")+", which need it")
	}
	if len(where) == 0 {
		b.WriteString("No role or host runs this app yet: it is in the catalog of no role.\n\n")
	} else {
		for _, s := range where {
			b.WriteString("- " + s + "\n")
		}
		b.WriteString("\n")
	}

	b.WriteString("## Binaries\n\n")
	var rows [][]string
	for _, bin := range a.Binaries {
		rows = append(rows, []string{binaryLink(name, bin.Name), bin.Kind, code(orDash(bin.Listen)), urlCell(bin.URL), urlCell(bin.Health)})
	}
	table(&b, []string{"Binary", "Kind", "Listen", "URL", "Health"}, rows)
	for _, bin := range a.Binaries {
		fmt.Fprintf(&b, "### %s\n\n", code(bin.Name))
		fmt.Fprintf(&b, "- Kind: %s\n- Runs: %s", bin.Kind, code(bin.Path))
		for _, arg := range bin.Args {
			b.WriteString(" " + code(arg))
		}
		b.WriteString("\n")
		if len(bin.Env) > 0 {
			keys := make([]string, 0, len(bin.Env))
			for k := range bin.Env {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var env []string
			for _, k := range keys {
				env = append(env, code(k+"="+bin.Env[k]))
			}
			fmt.Fprintf(&b, "- Environment (besides `PATH`, `HOME`, `LANG`): %s\n", strings.Join(env, " "))
		}
		if bin.Listen != "" {
			fmt.Fprintf(&b, "- Listens on %s", code(bin.Listen))
			if bin.Health != "" {
				fmt.Fprintf(&b, "; healthy when %s answers 2xx", code(bin.Health))
			}
			b.WriteString("\n")
		}
		if bin.URL != "" {
			fmt.Fprintf(&b, "- The cockpit links to %s\n", code(bin.URL))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Source and build\n\n")
	switch {
	case a.Artifact != nil:
		fmt.Fprintf(&b, "Built once for the whole fleet: the agent downloads %s and checks its sha256 %s.\n\n",
			code(a.Artifact.URL), code(a.Artifact.SHA256))
	default:
		ref := a.Source.RefOrDefault()
		fmt.Fprintf(&b, "- Repository: %s\n- Ref: %s (%s)\n", code(a.Source.Repo), code(ref), refMeaning(ref))
		if a.Build != nil {
			timeout := a.Build.Timeout.Duration
			if timeout == 0 {
				timeout = fleet.DefaultBuildTimeout
			}
			fmt.Fprintf(&b, "- Build: %s (an argv, no shell), timeout %s, in a directory of its own per revision\n",
				code(strings.Join(a.Build.Command, " ")), code(duration(timeout)))
		}
		if pins := w.pinsOf(name); len(pins) > 0 {
			fmt.Fprintf(&b, "- Pinned on %s\n", strings.Join(pins, ", "))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Needs, uses and hooks\n\n")
	var needs, uses []string
	for _, n := range a.Needs {
		needs = append(needs, w.appLink(n))
	}
	for _, u := range a.Uses {
		var where []string
		for _, r := range f.RolesPreinstalling(u) {
			where = append(where, w.roleLink(r))
		}
		uses = append(uses, fmt.Sprintf("%s (on %s, over Mycelium with per-tester auth)", w.appLink(u), list(where)))
	}
	fmt.Fprintf(&b, "- Needs (same host, started first): %s\n- Uses (another role, over the network): %s\n", list(needs), list(uses))
	if len(a.Hooks) == 0 {
		b.WriteString("- Hooks: none\n")
	}
	for _, h := range a.Hooks {
		fmt.Fprintf(&b, "- Hook %s on %s", code(h.Plugin), code(h.On))
		if h.Timeout.Duration > 0 {
			fmt.Fprintf(&b, " (timeout %s)", code(duration(h.Timeout.Duration)))
		}
		fmt.Fprintf(&b, ": plugin executable %s\n", code("herofleet-plugin-"+h.Plugin))
	}
	return sitegen.Page{Path: appPath(name), Title: appTitle(a), Markdown: []byte(b.String()),
		Source: "(generated) " + orDash(a.File), Section: sectionApps, Weight: weightApps}
}

func urlCell(u string) string {
	if u == "" {
		return "—"
	}
	return code(u)
}

func refMeaning(ref string) string {
	if len(ref) == 40 && strings.Trim(ref, "0123456789abcdef") == "" {
		return "a commit: pinned"
	}
	return "a branch is followed, a new commit upgrades the app at the next sync; a tag pins it"
}

// neededBy lists the apps that need name, as links.
func (w writer) neededBy(name string) []string {
	var out []string
	for _, n := range w.f.AppNames() {
		for _, dep := range w.f.Apps[n].Needs {
			if dep == name {
				out = append(out, w.appLink(n))
			}
		}
	}
	return out
}

func (w writer) pinsOf(app string) []string {
	var out []string
	for _, h := range w.f.HostNames() {
		if ref, ok := w.f.Hosts[h].Pin[app]; ok {
			out = append(out, hostLink(h)+" at "+code(ref))
		}
	}
	return out
}

// duration writes 30m rather than Go's 30m0s.
func duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
