package runbook

import (
	"slices"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/redact"
	"github.com/herofleet/herofleet/sitegen"
)

// Options adds what the fleet files alone do not say.
type Options struct {
	// History is the fleet repo's git history, for the changelog and the stale-name check; nil for a plain dir.
	History *History
	// FleetURL is the fleet repo URL that bootstrap commands name; a placeholder when empty.
	FleetURL string
}

// Navigation sections; sitegen orders sections by their lightest page, so each section's pages weigh from its base.
const (
	sectionStart      = "Start here"
	sectionRoles      = "Roles"
	sectionApps       = "Apps"
	sectionProcedures = "Procedures"
	sectionRunbook    = "Runbook"
	sectionHistory    = "History"

	weightRoles      = 100
	weightApps       = 200
	weightProcedures = 300
	weightRunbook    = 400
	weightHistory    = 500
)

// Site assembles the runbook of f. Problems in the fleet's own runbook pages (unknown names in helpers, template
// errors) are returned together as a *sitegen.BuildError; sitegen reports broken links and stale names later.
func Site(f *fleet.Fleet, opts Options) (sitegen.Site, error) {
	if opts.FleetURL == "" {
		opts.FleetURL = "https://forge.example/ops/" + f.Meta.Name + "-fleet.git"
	}
	opts.FleetURL = redact.Text(opts.FleetURL) // a checkout's origin remote may carry a token
	w := writer{f: f, opts: opts}
	site := sitegen.Site{Title: orDash(fleetTitle(f)) + " runbook"}
	site.Pages = append(site.Pages, w.overview(), w.hosts())
	for _, r := range f.RoleNames() {
		site.Pages = append(site.Pages, w.role(r))
	}
	for _, a := range f.AppNames() {
		site.Pages = append(site.Pages, w.app(a))
	}
	site.Pages = append(site.Pages, w.procedures()...)
	// The changelog page always exists, so pages can link to it; without history it says where the log is.
	site.Pages = append(site.Pages, w.changelog())
	if opts.History != nil {
		site.CheckCode = opts.History.staleCheck(f)
	}
	custom, err := w.runbookPages()
	if err != nil {
		return sitegen.Site{}, err
	}
	site.Pages = append(site.Pages, custom...)
	site.Files = []sitegen.File{{Path: "topology.svg", Data: Topology(f)}}
	return site, nil
}

type writer struct {
	f    *fleet.Fleet
	opts Options
}

func fleetTitle(f *fleet.Fleet) string {
	if f.Meta.Title != "" {
		return f.Meta.Title
	}
	return f.Meta.Name
}

func appTitle(a *fleet.App) string {
	if a.Title != "" {
		return a.Title
	}
	return a.Name
}

func roleTitle(r *fleet.Role) string {
	if r.Title != "" {
		return r.Title
	}
	return r.Name
}

func (w writer) appLink(name string) string {
	if a := w.f.Apps[name]; a != nil {
		return appLink(name, appTitle(a))
	}
	return esc(name)
}

func (w writer) roleLink(name string) string {
	if r := w.f.Roles[name]; r != nil {
		return roleLink(name, roleTitle(r))
	}
	return esc(name)
}

// hostsOf lists the hosts files of a role, sorted.
func (w writer) hostsOf(role string) []string {
	var out []string
	for _, h := range w.f.HostNames() {
		if w.f.Hosts[h].Role == role {
			out = append(out, h)
		}
	}
	return out
}

// hostsAdding lists the hosts whose file adds app, sorted.
func (w writer) hostsAdding(app string) []string {
	var out []string
	for _, h := range w.f.HostNames() {
		if slices.Contains(w.f.Hosts[h].Add, app) {
			out = append(out, h)
		}
	}
	return out
}

func hostAddress(h *fleet.Host, name string) string {
	if h.Address != "" {
		return h.Address
	}
	return name
}
