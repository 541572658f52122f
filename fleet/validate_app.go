package fleet

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
)

// validateApp checks one apps/<app>.yaml: source, build, artifact, binaries, needs, uses and hooks. binaryOwner
// remembers which app took each binary name, so that a name is unique across the fleet.
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
		if !ValidSHA256(art.SHA256) {
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

// validateBinary checks binaries[i] of an app.
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
		if !ValidEnvName(k) {
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

// isWebURL says whether s is an absolute http(s) URL with a host: a link a browser can follow.
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

// checkAppRefs checks a list of app names in an app file (needs, uses): known apps, each once, never the app itself.
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
