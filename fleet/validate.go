package fleet

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// validate checks everything that can be checked without cloning an app: the rules of the fleet format.
func validate(f *Fleet, e *errs) {
	validateMeta(&f.Meta, e)
	binaryOwner := map[string]*App{}
	for _, name := range sortedKeys(f.Apps) {
		validateApp(f, f.Apps[name], binaryOwner, e)
	}
	checkNeedsCycles(f, e)
	for _, name := range sortedKeys(f.Roles) {
		validateRole(f, f.Roles[name], e)
		validateLinks(f.Roles[name], e)
	}
	for _, name := range sortedKeys(f.Hosts) {
		validateHost(f, f.Hosts[name], e)
	}
	checkListenClashes(f, e)
	validateSecrets(f, e)
	validateRollout(f, e)
}

// validateMeta checks fleet.yaml.
func validateMeta(m *Meta, e *errs) {
	if m.File == "" {
		return
	}
	at := func(p string) Pos { return m.pos.at(p) }
	if m.pos.broken() {
		return
	}
	if !m.pos.has("name") {
		e.add(m.File, at(""), "name is required")
	} else if m.Name != "" && !ValidName(m.Name) {
		e.add(m.File, at("name"), "name %q does not match %s", m.Name, NamePattern)
	}
	if m.Sync.Schedule != "" {
		if err := checkCron(m.Sync.Schedule); err != nil {
			e.add(m.File, at("sync.schedule"), "sync.schedule: %v", err)
		}
	}
	if m.Sync.Jitter.Duration < 0 {
		e.add(m.File, at("sync.jitter"), "sync.jitter must not be negative")
	}
	for i, w := range m.Maintenance {
		p := fmt.Sprintf("maintenance[%d]", i)
		if w.Schedule == "" {
			e.add(m.File, at(p), "%s.schedule is required", p)
		} else if err := checkCron(w.Schedule); err != nil {
			e.add(m.File, at(p+".schedule"), "%s.schedule: %v", p, err)
		}
		if w.Duration.Duration <= 0 {
			e.add(m.File, at(p+".duration"), "%s.duration must be positive (e.g. 2h)", p)
		}
	}
	switch m.Drift {
	case "", DriftHeal, DriftReport:
	default:
		e.add(m.File, at("drift"), "drift must be heal or report, found %q", m.Drift)
	}
	validateAgentRelease(m, e)
	for _, name := range sortedKeys(m.Plugins) {
		p := "plugins." + name
		if !ValidName(name) {
			e.add(m.File, at(p+"#key"), "plugin name %q does not match %s", name, NamePattern)
		}
		if !ValidSHA256(m.Plugins[name]) {
			e.add(m.File, at(p), "plugins.%s must be the plugin's sha256: 64 lowercase hex digits", name)
		}
	}
}

// validateAgentRelease checks fleet.yaml's agent: a version, an http(s) or file URL and a sha256 per known
// platform, and a positive confirm.
func validateAgentRelease(m *Meta, e *errs) {
	r := m.Agent
	if r == nil {
		return
	}
	at := func(p string) Pos { return m.pos.at(p) }
	switch {
	case r.Version == "":
		e.add(m.File, at("agent"), "agent.version is required")
	case !validVersion(r.Version):
		e.add(m.File, at("agent.version"), "agent.version %q is not a release version (letters, digits, '.', '-', '+', '_')", r.Version)
	}
	if len(r.Artifacts) == 0 {
		e.add(m.File, at("agent"), "agent.artifacts is required: {url, sha256} per platform (%s)", strings.Join(AgentPlatforms, ", "))
	}
	for _, plat := range sortedKeys(r.Artifacts) {
		p := "agent.artifacts." + plat
		if !slices.Contains(AgentPlatforms, plat) {
			e.add(m.File, at(p+"#key"), "agent.artifacts: unknown platform %q (known: %s)", plat, strings.Join(AgentPlatforms, ", "))
		}
		art := r.Artifacts[plat]
		if u, err := url.Parse(art.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "file") || (u.Scheme != "file" && u.Host == "") {
			e.add(m.File, at(p+".url"), "%s.url must be an http(s) or file URL, found %q", p, art.URL)
		}
		if !ValidSHA256(art.SHA256) {
			e.add(m.File, at(p+".sha256"), "%s.sha256 must be 64 lowercase hex digits", p)
		}
	}
	if r.Confirm.Duration < 0 || (m.pos.has("agent.confirm") && r.Confirm.Duration == 0) {
		e.add(m.File, at("agent.confirm"), "agent.confirm must be positive (e.g. 2m)")
	}
}

// validVersion is a release version as it names a folder of the agent's dir: no path separator, no dot-dot.
func validVersion(v string) bool {
	if len(v) > 64 || v == "." || v == ".." {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-+_", c)) {
			return false
		}
	}
	return v[0] != '.'
}

// ValidAgentVersion reports whether v may name an agent release (and so a folder of the agent's dir).
func ValidAgentVersion(v string) bool { return validVersion(v) }

// checkCron parses a schedule with robfig/cron's own standard parser, as the agent will.
func checkCron(spec string) error {
	_, err := ParseSchedule(spec)
	return err
}

// validateRole checks one roles/<role>.yaml: every app it names exists, once.
func validateRole(f *Fleet, r *Role, e *errs) {
	for _, field := range []string{"preinstalled", "catalog"} {
		list := r.Preinstalled
		if field == "catalog" {
			list = r.Catalog
		}
		seen := map[string]bool{}
		for i, n := range list {
			p := fmt.Sprintf("%s[%d]", field, i)
			switch {
			case seen[n]:
				e.add(r.File, r.pos.at(p), "%s names %q twice", field, n)
			case f.Apps[n] == nil:
				e.add(r.File, r.pos.at(p), "%s: unknown app %q%s", field, n, suggest(n, sortedKeys(f.Apps)))
			case field == "catalog" && slices.Contains(r.Preinstalled, n):
				e.add(r.File, r.pos.at(p), "%q is preinstalled already; a catalog lists what installs on click", n)
			}
			seen[n] = true
		}
	}
}

// validateLinks checks a role's links: a title, and an http(s) URL that may use ${host} and nothing else.
func validateLinks(r *Role, e *errs) {
	for i, l := range r.Links {
		p := fmt.Sprintf("links[%d]", i)
		if l.Title == "" {
			e.add(r.File, r.pos.at(p), "%s.title is required", p)
		}
		u, err := Expand(l.URL, Vars{Host: "host.example"})
		switch {
		case strings.Contains(strings.ReplaceAll(l.URL, "${host}", ""), "${"):
			err = errors.New("only ${host} may be used in a link")
		case err == nil && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://"):
			err = errors.New("must be an http:// or https:// URL")
		}
		if err != nil {
			e.add(r.File, r.pos.at(p+".url"), "%s.url: %v", p, err)
		}
	}
}

// validateHost checks one hosts/<host>.yaml: its role, address, add and pins.
func validateHost(f *Fleet, h *Host, e *errs) {
	if h.pos.broken() {
		return
	}
	bad := func(p string, format string, args ...any) { e.add(h.File, h.pos.at(p), format, args...) }
	role := f.Roles[h.Role]
	switch {
	case !h.pos.has("role"):
		bad("", "role is required")
	case role == nil:
		bad("role", "unknown role %q%s", h.Role, suggest(h.Role, sortedKeys(f.Roles)))
	}
	if strings.ContainsAny(h.Address, " \t/") {
		bad("address", "address %q is a host name or IP address (IPv6 in brackets), nothing more", h.Address)
	}
	if h.Agent != "" {
		if err := checkAgentURL(h.Agent); err != nil {
			bad("agent", "agent: %v", err)
		}
	}
	seen := map[string]bool{}
	for i, n := range h.Add {
		p := fmt.Sprintf("add[%d]", i)
		switch {
		case seen[n]:
			bad(p, "add names %q twice", n)
		case f.Apps[n] == nil:
			bad(p, "add: unknown app %q%s", n, suggest(n, sortedKeys(f.Apps)))
		case role != nil && slices.Contains(role.Preinstalled, n):
			bad(p, "%q is preinstalled by role %q already", n, h.Role)
		}
		seen[n] = true
	}
	// A pin names an app the host may run. When a needs cycle keeps the host's apps from being worked out, the
	// cycle is the error (checkNeedsCycles reports it), not each pin.
	var desired []string
	judgePins := role != nil
	if len(h.Pin) > 0 && judgePins {
		var err error
		desired, err = f.mayRun(h.Role, h.Add)
		_, cycle := errors.AsType[*needsCycleError](err)
		judgePins = !cycle
	}
	for _, app := range sortedKeys(h.Pin) {
		p := "pin." + app
		switch {
		case f.Apps[app] == nil:
			bad(p+"#key", "pin: unknown app %q%s", app, suggest(app, sortedKeys(f.Apps)))
		case judgePins && !slices.Contains(desired, app):
			bad(p+"#key", "pin: %q is not installed on this host nor in its catalog", app)
		}
		if err := CheckRef(h.Pin[app]); h.Pin[app] == "" || err != nil {
			bad(p, "pin.%s must be a branch, tag or commit", app)
		}
	}
}
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
