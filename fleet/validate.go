package fleet

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	sha256RE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	commitRE  = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// ValidSHA256 says whether s is a sha256 as the fleet writes it: 64 lowercase hex digits.
func ValidSHA256(s string) bool { return sha256RE.MatchString(s) }

// ValidEnvName says whether s can name an environment variable.
func ValidEnvName(s string) bool { return envNameRE.MatchString(s) }

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
	}
	for _, name := range sortedKeys(f.Hosts) {
		validateHost(f, f.Hosts[name], e)
	}
	checkListenClashes(f, e)
}

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
	for _, name := range sortedKeys(m.Plugins) {
		p := "plugins." + name
		if !ValidName(name) {
			e.add(m.File, at(p+"#key"), "plugin name %q does not match %s", name, NamePattern)
		}
		if !sha256RE.MatchString(m.Plugins[name]) {
			e.add(m.File, at(p), "plugins.%s must be the plugin's sha256: 64 lowercase hex digits", name)
		}
	}
}

// checkCron parses a schedule with robfig/cron's own standard parser, as the agent will.
func checkCron(spec string) error {
	_, err := ParseSchedule(spec)
	return err
}

func validateApp(f *Fleet, a *App, binaryOwner map[string]*App, e *errs) {
	if a.pos.broken() {
		return
	}
	bad := func(p string, format string, args ...any) { e.add(a.File, a.pos.at(p), format, args...) }
	// build and artifact may stand together: build says how `herofleet build` makes the archive in CI, and agents
	// install the artifact.
	if a.Artifact == nil && !a.pos.has("source.repo") {
		bad("source", "source.repo is required (or an artifact)")
	}
	if a.Source.Repo != "" {
		if err := CheckRepoURL(a.Source.Repo); err != nil {
			bad("source.repo", "source.repo: %v", err)
		}
	}
	if a.Source.Ref != "" {
		if err := CheckRef(a.Source.Ref); err != nil {
			bad("source.ref", "source.ref: %v", err)
		}
	}
	if b := a.Build; b != nil {
		if len(b.Command) == 0 || b.Command[0] == "" {
			bad("build.command", "build.command is an argv with at least the program: [make, build]")
		} else if len(b.Command) == 1 && strings.ContainsAny(b.Command[0], " \t") {
			bad("build.command", "build.command is an argv, not a shell string: split %q into a list", b.Command[0])
		}
		for i, arg := range b.Command {
			if err := checkVars(arg); err != nil {
				bad(fmt.Sprintf("build.command[%d]", i), "build.command[%d]: %v", i, err)
			}
		}
		if b.Timeout.Duration < 0 {
			bad("build.timeout", "build.timeout must not be negative")
		}
	}
	if art := a.Artifact; art != nil {
		if u, err := url.Parse(art.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "file") || (u.Scheme != "file" && u.Host == "") {
			bad("artifact.url", "artifact.url must be an http(s) or file URL, found %q", art.URL)
		}
		if !sha256RE.MatchString(art.SHA256) {
			bad("artifact.sha256", "artifact.sha256 must be 64 lowercase hex digits")
		}
	}
	if len(a.Binaries) == 0 && !a.pos.has("binaries") {
		bad("", "an app needs at least one entry in binaries")
	}
	for i := range a.Binaries {
		validateBinary(a, i, binaryOwner, e)
	}
	checkAppRefs(f, a, "needs", a.Needs, e)
	checkAppRefs(f, a, "uses", a.Uses, e)
	for i, u := range a.Uses {
		if u == a.Name {
			continue // reported by checkAppRefs
		} else if slices.Contains(a.Needs, u) {
			bad(fmt.Sprintf("uses[%d]", i), "%q is in both needs (same host) and uses (another host): pick one", u)
		} else if _, ok := f.Apps[u]; ok && len(f.rolesPreinstalling(u)) == 0 {
			bad(fmt.Sprintf("uses[%d]", i), "uses %q, but no role preinstalls it, so no host serves it", u)
		}
	}
	for i, h := range a.Hooks {
		p := fmt.Sprintf("hooks[%d]", i)
		if !a.pos.has(p + ".plugin") {
			bad(p, "%s.plugin is required", p)
		} else if !ValidName(h.Plugin) {
			bad(p+".plugin", "%s.plugin %q does not match %s", p, h.Plugin, NamePattern)
		}
		if !slices.Contains(Events, h.On) {
			bad(p+".on", "%s.on %q is not a hook event (%s)", p, h.On, strings.Join(Events, ", "))
		}
		if h.Timeout.Duration < 0 {
			bad(p+".timeout", "%s.timeout must not be negative", p)
		}
		walkStrings(h.With, p+".with", func(sp, s string) {
			if err := checkVars(s); err != nil {
				bad(sp, "%s: %v", sp, err)
			}
		})
	}
}

func validateBinary(a *App, i int, owner map[string]*App, e *errs) {
	b := &a.Binaries[i]
	p := fmt.Sprintf("binaries[%d]", i)
	bad := func(sub string, format string, args ...any) { e.add(a.File, a.pos.at(p+sub), format, args...) }
	switch {
	case !a.pos.has(p + ".name"):
		bad("", "%s.name is required", p)
	case !ValidName(b.Name):
		bad(".name", "binary name %q does not match %s", b.Name, NamePattern)
	case owner[b.Name] != nil:
		other := owner[b.Name]
		bad(".name", "binary %q is already a binary of app %q (%s): binary names are unique across the fleet", b.Name, other.Name, other.File)
	default:
		owner[b.Name] = a
	}
	switch {
	case b.Kind == "cli":
		bad(".kind", "kind cli is never supervised: leave cli binaries out of the fleet")
	case !slices.Contains(Kinds, b.Kind):
		bad(".kind", "kind %q is not one of %s", b.Kind, strings.Join(Kinds, ", "))
	}
	if err := checkTreePath(b.Path); err != nil {
		bad(".path", "%s.path: %v", p, err)
	}
	for j, arg := range b.Args {
		if err := checkVars(arg); err != nil {
			bad(fmt.Sprintf(".args[%d]", j), "%s.args[%d]: %v", p, j, err)
		}
	}
	for _, k := range sortedKeys(b.Env) {
		if !envNameRE.MatchString(k) {
			bad(".env."+k+"#key", "%s.env: %q is not an environment variable name", p, k)
		}
		if err := checkVars(b.Env[k]); err != nil {
			bad(".env."+k, "%s.env.%s: %v", p, k, err)
		}
	}
	if b.Listen != "" {
		if _, err := parseListen(b.Listen, symbolicVars(a.Name)); err != nil {
			bad(".listen", "%s.listen: %v", p, err)
		}
	}
	if b.Health != "" {
		switch {
		case b.Listen == "":
			bad(".health", "%s.health needs a listen address to probe", p)
		case !strings.HasPrefix(b.Health, "/"):
			bad(".health", "%s.health is an HTTP path starting with /, found %q", p, b.Health)
		}
	}
	if b.URL != "" {
		if err := checkVars(b.URL); err != nil {
			bad(".url", "%s.url: %v", p, err)
		} else if s, _ := Expand(b.URL, Vars{Host: "host.example", App: a.Name, Data: "/data", Sockets: "/run", Rev: "rev"}); !isWebURL(s) {
			bad(".url", "%s.url must be an http(s) URL, found %q", p, b.URL)
		}
	}
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// checkTreePath: a path inside the built source tree, never outside it.
func checkTreePath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("is required (the binary's path inside the built tree)")
	case strings.Contains(p, "$"):
		return fmt.Errorf("variables are not expanded in a path inside the tree: %q", p)
	case path.IsAbs(p) || strings.HasPrefix(p, `\`):
		return fmt.Errorf("must be relative to the built tree, found absolute %q", p)
	case strings.Contains(p, `\`):
		return fmt.Errorf("use / as the separator: %q", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return fmt.Errorf("must stay inside the built tree, found .. in %q", p)
		}
	}
	if path.Clean(p) != p {
		return fmt.Errorf("write it clean, as %q", path.Clean(p))
	}
	return nil
}

// CheckRepoURL accepts what go-git can clone: https, http, ssh, git and file URLs, and scp-like git@host:path.
func CheckRepoURL(s string) error {
	if strings.ContainsAny(s, " \t\r\n") {
		return fmt.Errorf("%q holds white space", s)
	}
	if strings.HasPrefix(s, "-") {
		return fmt.Errorf("%q starts with -", s)
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		switch u.Scheme {
		case "https", "http", "ssh", "git":
			if u.Host == "" {
				return fmt.Errorf("%q has no host", s)
			}
			return nil
		case "file":
			return nil
		}
		return fmt.Errorf("scheme %q is not one of https, http, ssh, git, file", u.Scheme)
	}
	if user, rest, ok := strings.Cut(s, "@"); ok && user != "" && strings.Contains(rest, ":") {
		return nil // scp-like: git@forge:org/repo.git
	}
	return fmt.Errorf("%q is not a git URL (https://…, ssh://…, git@host:path, file://…)", s)
}

// CheckRef accepts what git accepts as a branch or tag name, or a 40-hex commit.
func CheckRef(ref string) error {
	switch {
	case commitRE.MatchString(ref):
		return nil
	case ref == "", strings.HasPrefix(ref, "-"), strings.HasPrefix(ref, "/"), strings.HasSuffix(ref, "/"), strings.HasSuffix(ref, ".lock"):
		return fmt.Errorf("%q is not a valid git ref", ref)
	case strings.Contains(ref, ".."), strings.Contains(ref, "@{"), strings.Contains(ref, "//"):
		return fmt.Errorf("%q is not a valid git ref", ref)
	case strings.ContainsAny(ref, " \t\r\n~^:?*[\\"):
		return fmt.Errorf("%q holds a character git refuses in a ref", ref)
	}
	return nil
}

func checkAppRefs(f *Fleet, a *App, field string, names []string, e *errs) {
	seen := map[string]bool{}
	for i, n := range names {
		p := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case n == a.Name:
			e.add(a.File, a.pos.at(p), "%s names the app itself", field)
		case seen[n]:
			e.add(a.File, a.pos.at(p), "%s names %q twice", field, n)
		case f.Apps[n] == nil:
			e.add(a.File, a.pos.at(p), "%s: unknown app %q%s", field, n, suggest(n, sortedKeys(f.Apps)))
		}
		seen[n] = true
	}
}

// checkNeedsCycles finds needs cycles; each cycle is reported once, at the first of its apps by name.
func checkNeedsCycles(f *Fleet, e *errs) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		color[name] = grey
		stack = append(stack, name)
		a := f.Apps[name]
		for i, n := range a.Needs {
			if f.Apps[n] == nil || n == name {
				continue
			}
			switch color[n] {
			case grey:
				start := slices.Index(stack, n)
				cycle := append(slices.Clone(stack[start:]), n)
				e.add(a.File, a.pos.at(fmt.Sprintf("needs[%d]", i)), "needs cycle: %s", strings.Join(cycle, " -> "))
			case white:
				visit(n)
			}
		}
		stack = stack[:len(stack)-1]
		color[name] = black
	}
	for _, name := range sortedKeys(f.Apps) {
		if color[name] == white {
			visit(name)
		}
	}
}

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
	var desired []string
	if len(h.Pin) > 0 && role != nil {
		desired, _ = f.mayRun(h.Role, h.Add)
	}
	for _, app := range sortedKeys(h.Pin) {
		p := "pin." + app
		switch {
		case f.Apps[app] == nil:
			bad(p+"#key", "pin: unknown app %q%s", app, suggest(app, sortedKeys(f.Apps)))
		case role != nil && !slices.Contains(desired, app):
			bad(p+"#key", "pin: %q is not installed on this host nor in its catalog", app)
		}
		if err := CheckRef(h.Pin[app]); h.Pin[app] == "" || err != nil {
			bad(p, "pin.%s must be a branch, tag or commit", app)
		}
	}
}

// listenKey is what two binaries on one host must not share.
type listenKey struct {
	network, addr string // tcp: port; unix: path
	host          string // tcp only: the interface
}

// Listen is a parsed listen address.
type Listen struct {
	Network string // "tcp" or "unix"
	Address string // host:port, or a socket path
}

// parseListen reads tcp://HOST:PORT or unix://PATH, variables expanded.
func parseListen(s string, v Vars) (Listen, error) {
	exp, err := Expand(s, v)
	if err != nil {
		return Listen{}, err
	}
	network, addr, ok := strings.Cut(exp, "://")
	switch {
	case !ok:
		return Listen{}, fmt.Errorf("%q must be tcp://HOST:PORT or unix://PATH", s)
	case network == "tcp":
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return Listen{}, fmt.Errorf("%q: %v", s, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Listen{}, fmt.Errorf("%q: port must be a number from 1 to 65535", s)
		}
		if strings.Contains(host, " ") {
			return Listen{}, fmt.Errorf("%q: bad host", s)
		}
		return Listen{Network: "tcp", Address: addr}, nil
	case network == "unix":
		if !path.IsAbs(addr) && !strings.HasPrefix(s, "unix://${") {
			return Listen{}, fmt.Errorf("%q: a socket path is absolute or starts with ${sockets} or ${data}", s)
		}
		return Listen{Network: "unix", Address: addr}, nil
	}
	return Listen{}, fmt.Errorf("%q: scheme %q is not tcp or unix", s, network)
}

// ParseListen reads a binary's listen address with its variables expanded.
func ParseListen(s string, v Vars) (Listen, error) { return parseListen(s, v) }

// symbolicVars stand for values only an agent knows, so that two strings can be compared.
func symbolicVars(app string) Vars {
	return Vars{App: app, Data: "${data}/" + app, Host: "${host}", Rev: "${rev}", Sockets: "${sockets}"}
}

func keyOf(l Listen) listenKey {
	if l.Network == "unix" {
		return listenKey{network: "unix", addr: path.Clean(l.Address)}
	}
	host, port, _ := net.SplitHostPort(l.Address)
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "*"
	}
	return listenKey{network: "tcp", addr: port, host: host}
}

func clash(a, b listenKey) bool {
	if a.network != b.network || a.addr != b.addr {
		return false
	}
	return a.network == "unix" || a.host == b.host || a.host == "*" || b.host == "*"
}

// checkListenClashes: on one host, no two binaries that may run together (installed apps and the catalog, since any
// of it can be installed on click) listen on the same port or socket. Hosts share a few app sets, so each distinct
// set is checked once.
func checkListenClashes(f *Fleet, e *errs) {
	type user struct {
		app *App
		idx int
		key listenKey
	}
	keys := map[string][]user{} // app -> its binaries' listen keys, parsed once
	for name, a := range f.Apps {
		for i, b := range a.Binaries {
			if l, err := parseListen(b.Listen, symbolicVars(a.Name)); b.Listen != "" && err == nil {
				keys[name] = append(keys[name], user{a, i, keyOf(l)})
			}
		}
	}
	reported := map[[2]string]bool{}
	checked := map[string]bool{}
	check := func(where string, apps []string) {
		set := strings.Join(apps, ",")
		if checked[set] {
			return
		}
		checked[set] = true
		byAddr := map[[2]string][]user{} // (network, port or path) -> binaries there
		for _, name := range apps {
			for _, u := range keys[name] {
				k := [2]string{u.key.network, u.key.addr}
				for _, o := range byAddr[k] {
					if !clash(o.key, u.key) {
						continue
					}
					b, other := u.app.Binaries[u.idx].Name, o.app.Binaries[o.idx].Name
					if reported[[2]string{other, b}] {
						continue
					}
					reported[[2]string{other, b}] = true
					e.add(u.app.File, u.app.pos.at(fmt.Sprintf("binaries[%d].listen", u.idx)), "listen %s clashes with binary %q (%s) on %s",
						u.app.Binaries[u.idx].Listen, other, o.app.File, where)
				}
				byAddr[k] = append(byAddr[k], u)
			}
		}
	}
	for _, name := range sortedKeys(f.Roles) {
		if apps, err := f.mayRun(name, nil); err == nil {
			check("role "+name, apps)
		}
	}
	for _, name := range sortedKeys(f.Hosts) {
		if h := f.Hosts[name]; f.Roles[h.Role] != nil {
			if apps, err := f.mayRun(h.Role, h.Add); err == nil {
				check("host "+name, apps)
			}
		}
	}
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

// walkStrings calls fn for every string inside a hook's with, with its field path.
func walkStrings(v any, p string, fn func(path, s string)) {
	switch x := v.(type) {
	case string:
		fn(p, x)
	case map[string]any:
		for _, k := range sortedKeys(x) {
			walkStrings(x[k], p+"."+k, fn)
		}
	case []any:
		for i, item := range x {
			walkStrings(item, fmt.Sprintf("%s[%d]", p, i), fn)
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
