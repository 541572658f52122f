package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/agent/build"
	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/fleet"
)

// target is one app as this host should run it, with its source resolved to a commit.
type target struct {
	app         fleet.Resolved
	repo        *git.Repository
	hash        plumbing.Hash
	rev         string
	key         string // identity of the resolved spec: rev, build, binaries, hooks, address
	specKey     string // key plus what else lifts a quarantine when it changes (an artifact's URL); key when empty
	buildDir    string // <dir>/builds/<app>/<rev12>-<hash of rev+build>
	vars        fleet.Vars
	binaryNames []string
	uses        map[string]string
	pins        map[string]string // fleet.yaml plugins: name -> sha256
}

// resolveTarget fetches what is needed to know the app's revision and works out its spec identity.
func (a *Agent) resolveTarget(ctx context.Context, f *fleet.Fleet, d *fleet.Desired, app fleet.Resolved) (*target, error) {
	if app.Artifact != nil {
		return a.artifactTarget(f, d, app), nil
	}
	url := a.cfg.RewriteURL(app.Source.Repo)
	ref := app.Ref
	if app.Locked != "" {
		ref = app.Locked // fleet.lock pins the commit: no ref listing, a fetch only when the clone lacks it
	}
	repo, h, err := a.sources.Resolve(ctx, url, ref)
	if err != nil {
		return nil, err
	}
	t := &target{app: app, repo: repo, hash: h, rev: h.String()}
	a.fillTarget(t, f, d)
	buildKey := hashJSON(struct {
		Rev   string
		Build *fleet.Build
	}{t.rev, app.Build})
	t.key = hashJSON(struct {
		Rev      string
		Build    *fleet.Build
		Binaries []fleet.Binary
		Hooks    []fleet.Hook
		Address  string
	}{t.rev, app.Build, app.Binaries, app.Hooks, d.Address})
	t.buildDir = filepath.Join(a.cfg.Dir, "builds", app.Name, t.rev[:12]+"-"+buildKey[:8])
	return t, nil
}

// fillTarget sets what follows from the app's revision and the host: variables, binary names, uses, plugin pins.
func (a *Agent) fillTarget(t *target, f *fleet.Fleet, d *fleet.Desired) {
	t.vars = fleet.Vars{
		App: t.app.Name, Data: a.dataDir(t.app.Name), Host: d.Address, Rev: t.rev, Sockets: a.socketsDir(),
		Secrets: a.cfg.SecretsDir,
	}
	for _, b := range t.app.Binaries {
		t.binaryNames = append(t.binaryNames, b.Name)
	}
	t.uses = a.usesURLs(f, t.app.App)
	t.pins = f.Meta.Plugins
}

// usesURLs maps each app in uses to the base URL of its server binary on the first host that provides it.
func (a *Agent) usesURLs(f *fleet.Fleet, app *fleet.App) map[string]string {
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
			out[u] = a.cfg.RewriteURL("http://" + fleet.JoinHostPort(hosts[0], port) + "/")
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

func (a *Agent) dataDir(app string) string { return filepath.Join(a.cfg.Dir, "data", app) }
func (a *Agent) homeDir(app string) string { return filepath.Join(a.cfg.Dir, "home", app) }
func (a *Agent) socketsDir() string        { return filepath.Join(a.cfg.Dir, "run") }
func (a *Agent) logPath(binary string) string {
	return filepath.Join(a.cfg.Dir, "logs", binary+".log")
}

// procs expands the app's binaries into exactly what will be started. extra is env from pre-start hooks.
func (a *Agent) procs(t *target, extra map[string]string) ([]Proc, error) {
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
		p.Env = supervise.Env(a.cfg.Path, a.homeDir(t.app.Name), a.cfg.Lang, env) // never the agent's environment
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
func (a *Agent) varsFor(inst *Installed) fleet.Vars {
	addr := a.cfg.Address
	if d := a.host.desiredSet(); d != nil {
		addr = d.Address
	}
	return fleet.Vars{App: inst.App, Data: a.dataDir(inst.App), Host: addr, Rev: inst.Rev, Sockets: a.socketsDir(), Secrets: a.cfg.SecretsDir}
}
