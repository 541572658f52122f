package fleet

import (
	"fmt"
	"slices"
	"strings"
)

// Target is the VM an agent runs on, as its own config describes it.
type Target struct {
	Host    string // hosts/<host>.yaml applies when present
	Role    string // used when there is no hosts/<host>.yaml
	Address string // used when the hosts file gives none; default: the host's name
}

// Desired is what belongs on one host (or on any host of a role): the apps it runs and what it may install on click.
type Desired struct {
	Host    string // empty when resolved for a role
	Role    string
	Address string
	Apps    []Resolved // needs first, then by name
	Catalog []string   // apps installable on click (with their needs), not already in Apps; sorted
	Links   []Link     // the role's links, ${host} expanded
}

// Resolved is an app as it applies to one host.
type Resolved struct {
	*App
	Ref    string // source.ref, or the host's pin
	Pinned bool   // Ref comes from the host's pin
	Locked string // the commit fleet.lock pins (App, Ref) to; empty without a lock: Ref is followed
	Why    string // why the app is on the host: "preinstalled by role tester", "added by hosts/x.yaml", "needed by books"
}

// Names lists the desired apps in apply order.
func (d *Desired) Names() []string {
	out := make([]string, len(d.Apps))
	for i, a := range d.Apps {
		out[i] = a.Name
	}
	return out
}

// App finds a desired app by name.
func (d *Desired) App(name string) (Resolved, bool) {
	for _, a := range d.Apps {
		if a.Name == name {
			return a, true
		}
	}
	return Resolved{}, false
}

// ForHost resolves the host described by hosts/<name>.yaml.
func (f *Fleet) ForHost(name string) (*Desired, error) {
	if f.Hosts[name] == nil {
		return nil, fmt.Errorf("unknown host %q (no hosts/%s.yaml)", name, name)
	}
	return f.Resolve(Target{Host: name})
}

// ForRole resolves any host of a role that has no hosts file.
func (f *Fleet) ForRole(role string) (*Desired, error) {
	return f.Resolve(Target{Role: role})
}

// Resolve works out what belongs on a target: the role's preinstalled apps and the host's add, closed over needs,
// with the host's pins applied.
func (f *Fleet) Resolve(t Target) (*Desired, error) {
	d := &Desired{Host: t.Host, Role: t.Role, Address: t.Address}
	h := f.Hosts[t.Host]
	if h != nil {
		d.Role = h.Role
		if h.Address != "" {
			d.Address = h.Address
		}
	}
	if d.Address == "" {
		d.Address = t.Host
	}
	r := f.Roles[d.Role]
	if r == nil {
		if d.Role == "" {
			return nil, fmt.Errorf("host %q has no hosts file and no role", t.Host)
		}
		return nil, fmt.Errorf("unknown role %q", d.Role)
	}
	for _, l := range r.Links {
		if u, err := Expand(l.URL, Vars{Host: d.Address}); err == nil {
			d.Links = append(d.Links, Link{Title: l.Title, URL: u})
		}
	}
	why := map[string]string{}
	var roots []string
	for _, n := range r.Preinstalled {
		why[n] = "preinstalled by role " + r.Name
		roots = append(roots, n)
	}
	if h != nil {
		for _, n := range h.Add {
			if why[n] == "" {
				why[n] = "added by " + h.File
				roots = append(roots, n)
			}
		}
	}
	order, err := f.closure(roots, why)
	if err != nil {
		return nil, err
	}
	for _, n := range order {
		d.Apps = append(d.Apps, f.resolved(n, why[n], h))
	}
	for _, n := range r.Catalog {
		if f.Apps[n] != nil && !slices.Contains(order, n) {
			d.Catalog = append(d.Catalog, n)
		}
	}
	slices.Sort(d.Catalog)
	return d, nil
}

// resolved is app n as it applies on host h (nil: a host without a file): its ref, or the host's pin.
func (f *Fleet) resolved(n, why string, h *Host) Resolved {
	ra := Resolved{App: f.Apps[n], Ref: f.Apps[n].Source.RefOrDefault(), Why: why}
	if h != nil && h.Pin[n] != "" {
		ra.Ref, ra.Pinned = h.Pin[n], true
	}
	return f.locked(ra)
}

// locked applies fleet.lock to an app: the commit its ref is pinned to and, when the lock pins an archive built
// from that commit, the artifact the host installs instead of building.
func (f *Fleet) locked(ra Resolved) Resolved {
	ent, ok := f.Lock.Find(ra.Name, ra.Ref)
	if !ok {
		return ra
	}
	ra.Locked = ent.Commit
	if ent.Artifact != nil {
		app := *ra.App // the fleet's App stays as the files say
		art := *ent.Artifact
		app.Artifact = &art
		ra.App = &app
	}
	return ra
}

// Offered splits the apps a person installed on click into those d still has (in its catalog, or wanted anyway)
// and those it no longer offers, which an agent drops.
func (d *Desired) Offered(clicked []string) (keep, dropped []string) {
	for _, c := range clicked {
		if slices.Contains(d.Catalog, c) || slices.Contains(d.Names(), c) {
			keep = append(keep, c)
		} else {
			dropped = append(dropped, c)
		}
	}
	return keep, dropped
}

// With returns the desired set grown by apps installed on click (each with its needs); apps outside the catalog
// are refused.
func (f *Fleet) With(d *Desired, clicked []string) (*Desired, error) {
	var roots []string
	why := map[string]string{}
	for _, a := range d.Apps {
		roots = append(roots, a.Name)
		why[a.Name] = a.Why
	}
	for _, n := range clicked {
		if !slices.Contains(d.Catalog, n) && why[n] == "" {
			return nil, fmt.Errorf("app %q is not in the catalog of role %s", n, d.Role)
		}
		if why[n] == "" {
			why[n] = "installed on click"
			roots = append(roots, n)
		}
	}
	order, err := f.closure(roots, why)
	if err != nil {
		return nil, err
	}
	out := &Desired{Host: d.Host, Role: d.Role, Address: d.Address, Links: d.Links}
	h := f.Hosts[d.Host]
	for _, n := range order {
		if ra, ok := d.App(n); ok {
			out.Apps = append(out.Apps, ra)
			continue
		}
		out.Apps = append(out.Apps, f.resolved(n, why[n], h))
	}
	for _, n := range d.Catalog {
		if !slices.Contains(order, n) {
			out.Catalog = append(out.Catalog, n)
		}
	}
	return out, nil
}

// Bundle is an app with everything it needs on the same host, in install order (needs first, the app last).
func (f *Fleet) Bundle(app string) ([]string, error) {
	why := map[string]string{app: "requested"}
	return f.closure([]string{app}, why)
}

// closureResult is a needs closure in apply order, with the app that pulled in each non-root app.
type closureResult struct {
	order    []string
	neededBy map[string]string
	err      error
}

// closure adds every app the roots need and orders the set: an app comes after everything it needs, and among
// the apps that are ready at the same time, by name. why gains, for each app pulled in, which app needed it. A set
// with a needs cycle has no order: the error names the cycle.
func (f *Fleet) closure(roots []string, why map[string]string) ([]string, error) {
	key := strings.Join(roots, ",")
	f.mu.Lock()
	r, ok := f.closures[key]
	f.mu.Unlock()
	if !ok {
		r = f.computeClosure(roots)
		f.mu.Lock()
		if f.closures == nil {
			f.closures = map[string]closureResult{}
		}
		f.closures[key] = r
		f.mu.Unlock()
	}
	for n, by := range r.neededBy {
		if why[n] == "" {
			why[n] = by
		}
	}
	return slices.Clone(r.order), r.err
}

// computeClosure is closure without the memo.
func (f *Fleet) computeClosure(roots []string) closureResult {
	isRoot := map[string]bool{}
	for _, n := range roots {
		isRoot[n] = true
	}
	needs := map[string][]string{} // the closure's needs graph: its apps are the keys
	neededBy := map[string]string{}
	queue := slices.Clone(roots)
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if _, ok := needs[n]; ok {
			continue
		}
		a := f.Apps[n]
		if a == nil {
			return closureResult{err: fmt.Errorf("unknown app %q", n)}
		}
		needs[n] = a.Needs
		for _, dep := range a.Needs {
			if !isRoot[dep] && neededBy[dep] == "" {
				neededBy[dep] = "needed by " + n
			}
			queue = append(queue, dep)
		}
	}
	if cycles := needsCycles(needs); len(cycles) > 0 {
		return closureResult{err: &needsCycleError{cycles}}
	}
	// Without a cycle, every app becomes ready once the apps it needs are placed.
	pending := map[string]int{} // app -> needs not yet placed
	users := map[string][]string{}
	var ready []string
	for n, deps := range needs {
		pending[n] = len(deps)
		for _, dep := range deps {
			users[dep] = append(users[dep], n)
		}
		if pending[n] == 0 {
			ready = append(ready, n)
		}
	}
	order := make([]string, 0, len(needs))
	for len(ready) > 0 {
		slices.Sort(ready)
		n := ready[0]
		ready = ready[1:]
		order = append(order, n)
		for _, u := range users[n] {
			if pending[u]--; pending[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	return closureResult{order: order, neededBy: neededBy}
}

// mayRun lists every app a host of role with add may run at once: its desired set and its whole catalog.
func (f *Fleet) mayRun(role string, add []string) ([]string, error) {
	r := f.Roles[role]
	roots := append(slices.Clone(r.Preinstalled), add...)
	order, err := f.closure(roots, map[string]string{})
	if err != nil {
		return nil, err
	}
	for _, n := range r.Catalog {
		if f.Apps[n] != nil && !slices.Contains(order, n) {
			order = append(order, n)
		}
	}
	return order, nil
}

// Providers lists the addresses of the hosts (from hosts/) whose role preinstalls app: where a `uses` of it goes.
func (f *Fleet) Providers(app string) []string {
	var out []string
	for _, name := range sortedKeys(f.Hosts) {
		h := f.Hosts[name]
		if r := f.Roles[h.Role]; r != nil && slices.Contains(r.Preinstalled, app) {
			addr := h.Address
			if addr == "" {
				addr = h.Name
			}
			out = append(out, addr)
		}
	}
	return out
}

// rolesPreinstalling lists the roles that preinstall app.
func (f *Fleet) rolesPreinstalling(app string) []string {
	var out []string
	for _, name := range sortedKeys(f.Roles) {
		if slices.Contains(f.Roles[name].Preinstalled, app) {
			out = append(out, name)
		}
	}
	return out
}

// RolesPreinstalling lists the roles that preinstall app, sorted.
func (f *Fleet) RolesPreinstalling(app string) []string { return f.rolesPreinstalling(app) }

// RolesOffering lists the roles whose catalog has app, sorted.
func (f *Fleet) RolesOffering(app string) []string {
	var out []string
	for _, name := range sortedKeys(f.Roles) {
		if slices.Contains(f.Roles[name].Catalog, app) {
			out = append(out, name)
		}
	}
	return out
}

// AppNames, RoleNames and HostNames list the fleet's names, sorted.
func (f *Fleet) AppNames() []string  { return sortedKeys(f.Apps) }
func (f *Fleet) RoleNames() []string { return sortedKeys(f.Roles) }
func (f *Fleet) HostNames() []string { return sortedKeys(f.Hosts) }

// BinaryOwner finds the app a binary belongs to.
func (f *Fleet) BinaryOwner(binary string) (*App, bool) {
	for _, a := range f.Apps {
		for _, b := range a.Binaries {
			if b.Name == binary {
				return a, true
			}
		}
	}
	return nil, false
}
