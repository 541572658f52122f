package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/cockpit"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/gitserver"
	"github.com/herofleet/herofleet/plugins"
)

// Options tune a demo run.
type Options struct {
	Fleet   fs.FS         // the fleet repo to run; required
	Check   bool          // converge, GET every URL, stop
	Out     io.Writer     // where URLs and progress are printed
	Log     *slog.Logger  // the agents' logger
	Timeout time.Duration // how long convergence may take (5m)
	Keep    bool          // keep the work directory
	// PluginDirs are searched for hook plugins before the agents' own default dirs (<dir>/plugins, then the
	// folder of the running binary, where make build puts them).
	PluginDirs []string
}

// host is one demo VM: an agent with its API.
type host struct {
	name, role string
	agent      *agent.Agent
	api        string // base URL of its API
	dir        string // the agent's dir
}

// Run runs the demo until ctx ends (or, with Check, until every URL answered).
func Run(ctx context.Context, o Options) error {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	if _, err := fleet.LoadFS(o.Fleet); err != nil {
		return fmt.Errorf("example fleet: %w", err)
	}
	root, err := os.MkdirTemp("/tmp", "hfdemo") // short: unix socket paths stay under 108 bytes
	if err != nil {
		return err
	}
	if !o.Keep {
		defer os.RemoveAll(root)
	}
	fleetDir, keys, err := provision(root, o.Fleet)
	if err != nil {
		return err
	}
	f, err := fleet.LoadDir(fleetDir)
	if err != nil {
		return fmt.Errorf("example fleet with the demo's hosts: %w", err)
	}
	g, err := gitserver.Start(filepath.Join(root, "git"))
	if err != nil {
		return err
	}
	defer g.Stop()
	fleetURL, err := publish(g, os.DirFS(fleetDir), f)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "git server  %s  (fleet repo %s; %s -> it)\n", g.URL(), fleetURL, Forge)

	token, err := writeToken(root)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel() // stops both agents, which stop every binary (the demo's agents never LeaveBinariesRunning)
		wg.Wait()
		fmt.Fprintln(o.Out, "demo stopped; every binary stopped")
	}()
	var hosts []*host
	for _, h := range []struct{ name, role, listen string }{
		{engineHost, adminRole, "127.0.0.1:7071"}, {testerHost, testerRole, "127.0.0.1:7070"},
	} {
		if f.Roles[h.role] == nil {
			continue
		}
		hs, err := startHost(ctx, &wg, o, f, root, fleetURL, g.URL(), token, h.name, h.role, h.listen, keys[h.name])
		if err != nil {
			return err
		}
		hosts = append(hosts, hs)
	}
	if err := waitConverged(ctx, hosts, o.Timeout); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "converged in %s\n", time.Since(start).Round(100*time.Millisecond))
	urls := printURLs(o.Out, hosts)
	if o.Check {
		if err := checkHooks(o.Out, f, hosts); err != nil {
			return err
		}
		if err := checkURLs(ctx, o.Out, urls); err != nil {
			return err
		}
		return checkMission(ctx, o.Out, g, fleetDir, f, hosts, urls)
	}
	fmt.Fprintf(o.Out, "token for mutating calls: %s\nCtrl-C stops the demo.\n", token)
	<-ctx.Done()
	return nil
}

func writeToken(root string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b)
	return token, os.WriteFile(filepath.Join(root, "token"), []byte(token+"\n"), 0o600)
}

// startHost runs one agent with its API; it listens on listen when that is free, else on any port.
func startHost(ctx context.Context, wg *sync.WaitGroup, o Options, f *fleet.Fleet, root, fleetURL, gitURL, token, name, role, listen, identity string) (*host, error) {
	// The fleet's hosts sit on the Mycelium overlay; on this machine every VM is 127.0.0.1, so their addresses are
	// rewritten like any URL (this is how `uses` of the admin VM's engines reaches them here).
	rewrite := map[string]string{Forge: gitURL}
	for _, h := range f.Hosts {
		if h.Address != "" {
			rewrite["http://"+h.Address+":"] = "http://127.0.0.1:"
		}
	}
	cfg := &agent.Config{
		Fleet:        agent.FleetRepo{Repo: fleetURL, Ref: "main"},
		Host:         name,
		Role:         role,
		Address:      "127.0.0.1",
		Dir:          filepath.Join(root, role),
		TokenFile:    filepath.Join(root, "token"),
		IdentityFile: identity, // made as herofleet bootstrap makes it; the fleet's secrets/<host>/ are encrypted to it
		Rewrite:      rewrite,
		Path:         BuildPath(),
		BuildEnv:     GoBuildEnv(root),
		Schedule:     "@every 10s",
	}
	data, err := marshalConfig(cfg)
	if err != nil {
		return nil, err
	}
	cfg, err = agent.ParseConfig(data) // defaults, exactly as a config file would get them
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
	}
	runner := &plugins.Runner{Dirs: append(slices.Clone(o.PluginDirs), plugins.Dirs(cfg.PluginsDir, cfg.Dir)...), Logger: o.Log.With("host", name)}
	a, err := agent.New(cfg, o.Log.With("host", name), runner)
	if err != nil {
		ln.Close()
		return nil, err
	}
	h := &host{name: name, role: role, agent: a, api: "http://" + ln.Addr().String(), dir: cfg.Dir}
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := cockpit.NewAPI(a, token).Serve(ctx, ln); err != nil {
			o.Log.Error("api", "host", name, "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := a.Run(ctx); err != nil {
			o.Log.Error("agent", "host", name, "err", err)
		}
	}()
	fmt.Fprintf(o.Out, "agent %-11s role %-6s api %s/api/v1/status  dir %s\n", name, role, h.api, cfg.Dir)
	return h, nil
}

// BuildPath is the builds' PATH: the system default plus the folder of the go command this machine has.
func BuildPath() string {
	p := agent.DefaultPath
	if goExe, err := exec.LookPath("go"); err == nil {
		p = filepath.Dir(goExe) + ":" + p
	} else if _, err := os.Stat("/usr/local/go/bin/go"); err == nil {
		p = "/usr/local/go/bin:" + p
	}
	return p
}

// GoBuildEnv shares the invoking user's Go build cache with the demo's builds, and keeps them offline.
func GoBuildEnv(root string) map[string]string {
	cache := os.Getenv("GOCACHE")
	if cache == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(dir, "go-build")
		} else {
			cache = filepath.Join(root, "gocache")
		}
	}
	return map[string]string{
		"GOCACHE":     cache,
		"GOPATH":      filepath.Join(root, "gopath"),
		"GOFLAGS":     "-mod=mod",
		"GOPROXY":     "off",
		"GOTOOLCHAIN": "local",
		"CGO_ENABLED": "0",
	}
}

// waitConverged waits until every host has applied a fleet commit and every desired app runs; an app that failed
// ends the wait with its reason.
func waitConverged(ctx context.Context, hosts []*host, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		done, problems := true, []string{}
		for _, h := range hosts {
			st := h.agent.Status()
			if st.Fleet.Commit == "" {
				done = false
				continue
			}
			for _, a := range st.Apps {
				if a.Offered {
					continue
				}
				switch a.State {
				case api.AppFailed:
					problems = append(problems, fmt.Sprintf("%s: %s: %s", h.name, a.Name, a.Reason))
				case api.AppInstalled:
					for _, b := range a.Binaries {
						if b.State != api.BinRunning {
							done = false
						}
					}
				default:
					done = false
				}
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("demo failed to converge:\n  %s", strings.Join(problems, "\n  "))
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo did not converge within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return errors.New("interrupted before the demo converged")
		case <-time.After(100 * time.Millisecond):
		}
	}
}
