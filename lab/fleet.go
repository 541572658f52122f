package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/herofleet/herofleet/demo"
	"github.com/herofleet/herofleet/examples"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// Host is one machine of the lab's fleet.
type Host struct {
	Name, Role string
	Part       string // the host part of its address (Addr(Part))
}

// Timing is what the lab's fleet changes in the example fleet's fleet.yaml so that scenarios take seconds, not
// minutes: the sync schedule and the rollout's bake (Prometheus scrapes every 15 s, as herofleet prometheus config
// writes it).
type Timing struct {
	Schedule string // "@every 5s"
	Bake     string // "45s"
}

// WriteFleet writes the lab's fleet repo into dir: the example Hero fleet, its host files replaced by the lab's
// machines (role and address), the sync schedule, the bake and the Prometheus URL of the admin machine.
func WriteFleet(dir string, hosts []Host, admin string, t Timing) error {
	if err := os.CopyFS(dir, examples.Hero()); err != nil {
		return fmt.Errorf("copy the example fleet: %w", err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "hosts", "*.yaml"))
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	for _, h := range hosts {
		if err := WriteHost(dir, h, ""); err != nil {
			return err
		}
	}
	path := filepath.Join(dir, "fleet.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("fleet.yaml: %w", err)
	}
	m := doc.Content[0]
	for _, s := range []struct {
		path  []string
		value string
	}{
		{[]string{"sync", "schedule"}, t.Schedule},
		{[]string{"sync", "jitter"}, "1s"},
		{[]string{"rollout", "bake"}, t.Bake},
		{[]string{"rollout", "health", "prometheus"}, "http://[" + Addr(admin) + "]:9090"},
	} {
		if err := setScalar(m, s.path, s.value); err != nil {
			return fmt.Errorf("fleet.yaml: %w", err)
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

// WriteHost writes hosts/NAME.yaml: role, address and, once the machine has printed it, its age recipient.
func WriteHost(dir string, h Host, recipient string) error {
	text := fmt.Sprintf("# lab machine %s (its address on the lab bridge)\nrole: %s\naddress: \"[%s]\"\n", h.Name, h.Role, Addr(h.Part))
	if recipient != "" {
		text += "recipient: " + recipient + "\n"
	}
	return os.WriteFile(filepath.Join(dir, "hosts", h.Name+".yaml"), []byte(text), 0o644)
}

// setScalar sets the scalar at path in mapping m, which must exist up to its last key.
func setScalar(m *yaml.Node, path []string, value string) error {
	for i, key := range path {
		if m == nil || m.Kind != yaml.MappingNode {
			return fmt.Errorf("%s is not a mapping", strings.Join(path[:i], "."))
		}
		var next *yaml.Node
		for j := 0; j+1 < len(m.Content); j += 2 {
			if m.Content[j].Value == key {
				next = m.Content[j+1]
			}
		}
		if i == len(path)-1 {
			if next == nil {
				m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
				return nil
			}
			next.Kind, next.Tag, next.Value, next.Style, next.Content = yaml.ScalarNode, "", value, yaml.DoubleQuotedStyle, nil
			return nil
		}
		m = next
	}
	return nil
}

// Builder makes the fleet's artifacts with herofleet build, as an operator does once for the whole fleet.
type Builder struct {
	Bin   string // the herofleet binary
	Forge *Forge
	Work  string // scratch (the build cache of clones)
}

// Artifacts builds an archive for every entry of the fleet's lock that has none for its commit yet, publishes it
// on the forge and names it in the lock (URL and sha256). It returns how many it built.
func (b *Builder) Artifacts(ctx context.Context, dir string) (int, error) {
	built := 0
	err := editLock(dir, func(lock *fleet.Lock) error {
		for i, e := range lock.Entries {
			name := artifactName(e.App, e.Commit)
			out := filepath.Join(b.Forge.Artifacts, name)
			if _, err := os.Stat(out); err != nil {
				if err := b.build(ctx, dir, e.App, out); err != nil {
					return err
				}
				built++
			}
			sum, err := os.ReadFile(out + ".sha256")
			if err != nil {
				return err
			}
			lock.Entries[i].Artifact = &fleet.Artifact{URL: b.Forge.URL() + "artifacts/" + name, SHA256: strings.Fields(string(sum))[0]}
		}
		return nil
	})
	return built, err
}

// editLock reads the fleet.lock of the fleet in dir, lets edit change it and writes it back.
func editLock(dir string, edit func(*fleet.Lock) error) error {
	path := filepath.Join(dir, fleet.LockFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lock, err := fleet.ParseLock(data)
	if err != nil {
		return err
	}
	if err := edit(lock); err != nil {
		return err
	}
	return os.WriteFile(path, lock.Format(), 0o644)
}

func (b *Builder) build(ctx context.Context, dir, app, out string) error {
	args := []string{"build", app, dir, "--out", out, "--cache", filepath.Join(b.Work, "sources"),
		"--rewrite", demo.Forge + "=" + b.Forge.URL(), "--path", demo.BuildPath()}
	env := demo.GoBuildEnv(b.Work)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--build-env", k+"="+env[k])
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, b.Bin, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("herofleet build %s: %w\n%s", app, err, tail(out, 4096))
	}
	return nil
}

// NewRevision commits a new revision of app's source repo (its generated source plus a CHANGES file naming n) and
// moves the fleet lock in dir to it; the artifact follows with Builder.Artifacts. It returns the new commit.
func NewRevision(g *gitserver.Server, dir, app string, n int) (string, error) {
	f, err := fleet.LoadDir(dir)
	if err != nil {
		return "", err
	}
	a := f.Apps[app]
	if a == nil {
		return "", fmt.Errorf("the fleet has no app %s", app)
	}
	files, err := demo.AppFiles(a)
	if err != nil {
		return "", err
	}
	files["CHANGES"] = gitserver.File{Data: fmt.Appendf(nil, "revision %d of %s, made by the lab\n", n, app)}
	repo, err := demo.RepoName(a.Source.Repo)
	if err != nil {
		return "", err
	}
	commit, err := g.Commit(repo, a.Source.RefOrDefault(), fmt.Sprintf("%s: revision %d", app, n), files)
	if err != nil {
		return "", err
	}
	return commit, editLock(dir, func(lock *fleet.Lock) error {
		for i, e := range lock.Entries {
			if e.App == app {
				lock.Entries[i].Commit, lock.Entries[i].Artifact = commit, nil
			}
		}
		return nil
	})
}
