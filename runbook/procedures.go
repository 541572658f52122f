package runbook

import (
	"fmt"
	"slices"
	"strings"

	"github.com/herofleet/herofleet/sitegen"
)

// procedures are the standard operations, written against this fleet's names so they can be followed verbatim.
func (w writer) procedures() []sitegen.Page {
	page := func(path, title string, weight int, body string) sitegen.Page {
		return sitegen.Page{Path: "procedures/" + path, Title: title, Markdown: []byte("# " + title + "\n\n" + body),
			Source: "(generated) procedures/" + path, Section: sectionProcedures, Weight: weightProcedures + weight}
	}
	return []sitegen.Page{
		page("provision-tester", "Provision a tester", 1, w.provisionTester()),
		page("add-app", "Add an app to the catalog", 2, w.addApp()),
		page("one-click-install", "One-click install", 3, w.oneClick()),
		page("rollback", "Roll back a bad change", 4, w.rollback()),
		page("rollout", "Roll out in waves", 5, w.rollout()),
	}
}

// testerRole is the role a new tester gets: the one with a catalog (testers click), else the first role.
func (w writer) testerRole() string {
	names := w.f.RoleNames()
	if _, ok := w.f.Roles["tester"]; ok {
		return "tester"
	}
	for _, r := range names {
		if len(w.f.Roles[r].Catalog) > 0 {
			return r
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return "tester"
}

func (w writer) provisionTester() string {
	role := w.testerRole()
	var b strings.Builder
	fmt.Fprintf(&b, "A new tester gets a VM of role %s. Nothing is installed by hand: the agent converges the VM "+
		"from the fleet repo.\n\n", w.roleLink(role))
	b.WriteString("## Steps\n\n")
	b.WriteString("1. Create the VM (Debian) and bring up Mycelium on it; note its overlay address.\n")
	fmt.Fprintf(&b, "2. Run, as root:\n\n   ```sh\n   herofleet bootstrap --fleet %s --role %s --host <name> --address <mycelium-address>\n   ```\n\n"+
		"   It makes the VM's age identity (`/etc/herofleet/host.key`, kept when present) and prints its recipient (`age1…`).\n",
		w.opts.FleetURL, role)
	fmt.Fprintf(&b, "3. Commit `hosts/<name>.yaml` with `role: %s`, the address and `recipient: age1…` (the line bootstrap "+
		"printed). Fleet CI then runs `herofleet secrets issue`, which gives the new tester its own token for each shared "+
		"engine, encrypted to it, and the engine the token's sha256; no one copies a credential by hand.\n", role)
	b.WriteString("4. Watch it converge: `herofleet status` on the VM, or the cockpit. The agent decrypts the tester's " +
		"secrets into its secrets dir before any hook runs; every preinstalled binary reaches `running`; a failing app is " +
		"rolled back and quarantined with a reason instead of blocking the others.\n\n")
	w.engineVMs(&b, role)
	b.WriteString("## Check\n\n")
	fmt.Fprintf(&b, "The %s page lists what the VM runs and the URLs the cockpit shows. ", w.roleLink(role))
	b.WriteString("`herofleet plan --host <name>` prints the same from the fleet repo.\n")
	return b.String()
}

// engineVMs says how the VMs serving the apps a tester `uses` (the shared engines) come up: the same way, first.
func (w writer) engineVMs(b *strings.Builder, tester string) {
	d, err := w.f.ForRole(tester)
	if err != nil {
		return
	}
	serves := map[string][]string{} // role -> used apps it preinstalls
	for _, a := range d.Apps {
		for _, u := range a.Uses {
			for _, r := range w.f.RolesPreinstalling(u) {
				if r != tester && !slices.Contains(serves[r], u) {
					serves[r] = append(serves[r], u)
				}
			}
		}
	}
	roles := make([]string, 0, len(serves))
	for r := range serves {
		roles = append(roles, r)
	}
	slices.Sort(roles)
	for _, r := range roles {
		slices.Sort(serves[r])
		links := make([]string, len(serves[r]))
		for i, app := range serves[r] {
			links[i] = w.appLink(app)
		}
		fmt.Fprintf(b, "## The shared engines: role %s\n\n", r)
		fmt.Fprintf(b, "Testers reach %s on the %s over Mycelium, so stand that VM up first, the same way and with no "+
			"manual step either:\n\n```sh\nherofleet bootstrap --fleet %s --role %s --host <name> --address <mycelium-address>\n```\n\n"+
			"Commit its `hosts/<name>.yaml` with that address: it is where every tester's `uses` of those engines goes.\n\n",
			strings.Join(links, ", "), w.roleLink(r), w.opts.FleetURL, r)
	}
}

func (w writer) addApp() string {
	role := w.testerRole()
	var b strings.Builder
	b.WriteString("An app enters the fleet as one file, `apps/<app>.yaml`, and reaches testers through a role.\n\n")
	b.WriteString("## Steps\n\n")
	b.WriteString("1. Write `apps/<app>.yaml`: `source` (repo and ref) and `build`, or an `artifact` with its sha256; " +
		"every `server`, `web` and `admin` binary from the app's `service.toml`, each with `listen`, `health` and, for " +
		"UIs, `url`; `needs` for apps on the same host and `uses` for engines on another role.\n")
	fmt.Fprintf(&b, "2. List it in a role: under `catalog` of %s to offer it on click, or under `preinstalled` to run it "+
		"everywhere.\n", w.roleLink(role))
	b.WriteString("3. Check locally, then push:\n\n   ```sh\n   herofleet validate --deep .\n   herofleet plan --role " +
		role + "\n   git commit -am \"add <app>\" && git push\n   ```\n\n")
	b.WriteString("4. CI validates the change again. Agents pick it up at the next sync: preinstalled apps are installed " +
		"at once, catalog apps appear in the cockpit with an install button.\n")
	b.WriteString("\n`validate --deep` refuses an app whose binaries differ from its `service.toml`: a variant cannot " +
		"be dropped silently.\n")
	return b.String()
}

func (w writer) oneClick() string {
	role := w.testerRole()
	var b strings.Builder
	b.WriteString("Testers install catalog apps themselves from the cockpit.\n\n## Steps\n\n")
	b.WriteString("1. Open the cockpit on the tester VM. An app that is not installed shows as one row with an " +
		"**install** button.\n")
	b.WriteString("2. Click **install**. The agent installs the app and the apps it needs; the row shows the job's " +
		"phase (fetching, building, starting, healthy).\n")
	b.WriteString("3. Once installed, the app shows one row per binary with start, stop, restart and logs.\n\n")
	b.WriteString("From a shell on the VM the same is `herofleet install <app>`; `herofleet uninstall <app>` removes " +
		"it again and keeps its data.\n\n")
	if r := w.f.Roles[role]; r != nil && len(r.Catalog) > 0 {
		var apps []string
		for _, a := range r.Catalog {
			apps = append(apps, w.appLink(a))
		}
		fmt.Fprintf(&b, "On %s VMs the catalog is: %s.\n", w.roleLink(role), strings.Join(apps, ", "))
	}
	return b.String()
}

func (w writer) rollback() string {
	var b strings.Builder
	b.WriteString("A change can be bad in two ways, and the fleet handles both without touching a VM by hand.\n\n")
	b.WriteString("## An app fails to build, start or become healthy\n\n")
	b.WriteString("The agent already rolled the whole app back to its previous revision (or removed it, if it was " +
		"new) and quarantined it. The cockpit and `herofleet status` show the app, the revision and the reason. Fix " +
		"the app and move its `ref`, or revert the commit; a changed spec lifts the quarantine.\n\n")
	b.WriteString("## The fleet commit itself is wrong\n\n")
	b.WriteString("1. Find the commit in the [changelog](/changelog.md) (or `git log` in the fleet repo).\n")
	b.WriteString("2. See what undoing it does: `herofleet plan --against <bad-commit>^`.\n")
	b.WriteString("3. Revert it and push: `git revert <bad-commit> && git push`. Agents converge at the next sync, " +
		"or at once with `herofleet sync` on a VM.\n")
	b.WriteString("4. To hold one VM on a known-good revision of an app meanwhile, pin it in `hosts/<name>.yaml`: " +
		"`pin: {<app>: <commit>}`.\n\n")
	b.WriteString("A commit that does not validate never gets applied: agents refuse it as a whole, keep running the " +
		"last good commit, and report the bad commit and why.\n")
	return b.String()
}
