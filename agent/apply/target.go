package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/agent/build"
	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/fleet"
)

// Target is one app as this host should run it, with its source resolved to a commit (or its artifact to a
// sha256): what Apply moves the app to.
type Target struct {
	app         fleet.Resolved
	repo        *git.Repository
	hash        plumbing.Hash
	rev         string
	key         string // identity of the resolved spec: rev, build, binaries, hooks, address
	specKey     string // key plus what else lifts a quarantine when it changes (an artifact's URL); key when empty
	buildDir    string // <dir>/builds/<app>/<rev12>-<hash of rev+build>, or <sha256>-artifact
	vars        fleet.Vars
	binaryNames []string
	uses        map[string]string
	pins        map[string]string // fleet.yaml plugins: name -> sha256
}

// Rev is the revision the app moves to: a commit, or an artifact's sha256.
func (t *Target) Rev() string { return t.rev }

// Key is the identity of the resolved spec: when it differs from the running one's, the app restarts.
func (t *Target) Key() string { return t.key }

// QuarantineKey is what a quarantine is held against: the key, and for an artifact its URL too (a mirror move
// restarts nothing, but fixing the URL lifts a quarantine).
func (t *Target) QuarantineKey() string {
	if t.specKey != "" {
		return t.specKey
	}
	return t.key
}

// identity is what an app's key is made of, on the source and the artifact path alike: a change to any of it
// restarts the app. An artifact has no build.
type identity struct {
	Rev      string
	Build    *fleet.Build
	Binaries []fleet.Binary
	Hooks    []fleet.Hook
	Address  string
}

// Resolve fetches what is needed to know the app's revision and works out its spec identity. f is the fleet
// being converged, d what it wants on this host.
func (r *Runner) Resolve(ctx context.Context, f *fleet.Fleet, d *fleet.Desired, app fleet.Resolved) (*Target, error) {
	if app.Artifact != nil {
		return r.artifactTarget(f, d, app), nil
	}
	url := r.cfg.Rewrite(app.Source.Repo)
	ref := app.Ref
	if app.Locked != "" {
		ref = app.Locked // fleet.lock pins the commit: no ref listing, a fetch only when the clone lacks it
	}
	repo, h, err := r.sources.Resolve(ctx, url, ref)
	if err != nil {
		return nil, err
	}
	t := &Target{app: app, repo: repo, hash: h, rev: h.String()}
	r.fill(t, f, d)
	buildKey := hashJSON(struct {
		Rev   string
		Build *fleet.Build
	}{t.rev, app.Build})
	t.key = r.withSecrets(hashJSON(identity{t.rev, app.Build, app.Binaries, app.Hooks, d.Address}), app.App)
	t.buildDir = filepath.Join(r.buildsDir(app.Name), t.rev[:12]+"-"+buildKey[:8])
	return t, nil
}

// artifactTarget is an app built once for the whole fleet: its revision is the archive's sha256, so a new sha256
// is an upgrade and ${rev} is the sha256. Nothing is fetched here: the sha256 alone says whether anything changed.
func (r *Runner) artifactTarget(f *fleet.Fleet, d *fleet.Desired, app fleet.Resolved) *Target {
	t := &Target{app: app, rev: strings.ToLower(app.Artifact.SHA256)}
	r.fill(t, f, d)
	t.key = r.withSecrets(hashJSON(identity{t.rev, nil, app.Binaries, app.Hooks, d.Address}), app.App)
	// The URL is not part of the identity (a mirror move restarts nothing), but fixing it lifts a quarantine.
	t.specKey = hashJSON(struct{ Key, URL string }{t.key, app.Artifact.URL})
	t.buildDir = filepath.Join(r.buildsDir(app.Name), t.rev+"-artifact")
	return t
}

// fill sets what follows from the app's revision and the host: variables, binary names, uses, plugin pins.
func (r *Runner) fill(t *Target, f *fleet.Fleet, d *fleet.Desired) {
	t.vars = fleet.Vars{
		App: t.app.Name, Data: r.dataDir(t.app.Name), Host: d.Address, Rev: t.rev, Sockets: r.socketsDir(),
		Secrets: r.cfg.SecretsDir,
	}
	for _, b := range t.app.Binaries {
		t.binaryNames = append(t.binaryNames, b.Name)
	}
	t.uses = r.usesURLs(f, t.app.App)
	t.pins = f.Meta.Plugins
}

// usesURLs maps each app in uses to the base URL of its server binary on the first host that provides it.
func (r *Runner) usesURLs(f *fleet.Fleet, app *fleet.App) map[string]string {
	out := map[string]string{}
	for _, u := range app.Uses {
		other := f.Apps[u]
		hosts := f.Providers(u)
		if other == nil || len(hosts) == 0 {
			continue
		}
		for _, b := range other.Binaries {
			l, err := fleet.ParseListen(b.Listen, fleet.Vars{Host: hosts[0], App: u})
			if err != nil || l.Network != "tcp" {
				continue
			}
			_, port, _ := net.SplitHostPort(l.Address)
			out[u] = r.cfg.Rewrite("http://" + fleet.JoinHostPort(hosts[0], port) + "/")
			break
		}
	}
	return out
}

func hashJSON(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// procs expands the app's binaries into exactly what will be started. extra is env from pre-start hooks.
func (r *Runner) procs(t *Target, extra map[string]string) ([]Proc, error) {
	var out []Proc
	for _, b := range t.app.Binaries {
		p := Proc{Name: b.Name, Kind: b.Kind, Health: b.Health, Dir: t.vars.Data}
		exe, err := build.BinaryPath(t.buildDir, b.Path)
		if err != nil {
			return nil, fmt.Errorf("binary %s: %w", b.Name, err)
		}
		p.Path = exe
		for i, arg := range b.Args {
			v, err := fleet.Expand(arg, t.vars)
			if err != nil {
				return nil, fmt.Errorf("binary %s args[%d]: %w", b.Name, i, err)
			}
			p.Args = append(p.Args, v)
		}
		env := map[string]string{}
		for k, v := range extra {
			env[k] = v
		}
		for k, v := range b.Env {
			ev, err := fleet.Expand(v, t.vars)
			if err != nil {
				return nil, fmt.Errorf("binary %s env %s: %w", b.Name, k, err)
			}
			env[k] = ev
		}
		p.Env = supervise.Env(r.cfg.Path, r.homeDir(t.app.Name), r.cfg.Lang, env) // never the agent's environment
		if b.Listen != "" {
			if p.Listen, err = fleet.Expand(b.Listen, t.vars); err != nil {
				return nil, fmt.Errorf("binary %s listen: %w", b.Name, err)
			}
		}
		if b.URL != "" {
			if p.URL, err = fleet.Expand(b.URL, t.vars); err != nil {
				return nil, fmt.Errorf("binary %s url: %w", b.Name, err)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// varsFor is the variables of an installed app, with the host's current address.
func (r *Runner) varsFor(inst *Installed) fleet.Vars {
	return fleet.Vars{App: inst.App, Data: r.dataDir(inst.App), Host: r.state.Address(), Rev: inst.Rev, Sockets: r.socketsDir(), Secrets: r.cfg.SecretsDir}
}
