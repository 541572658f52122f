package fleet

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Action is what a change to the fleet does to one app on one host.
type Action string

// Actions, from the most to the least disruptive for the app's users.
const (
	Install Action = "install"
	Upgrade Action = "upgrade" // new source, build or artifact: rebuilt, then restarted as one bundle
	Restart Action = "restart" // same build, new binaries' args, env, listen…: restarted as one bundle
	Remove  Action = "remove"  // stopped; its ${data} stays
	// Heal is no change to the fleet: what the host runs drifted from what it installed, and is put back; only
	// the binaries concerned restart.
	Heal Action = "heal"
	// Report is no change at all: what the host runs drifted, and the fleet's drift: report only says it.
	Report Action = "report"
)

// Change is one app's action with every reason for it.
type Change struct {
	App     string   `json:"app"`
	Action  Action   `json:"action"`
	Reasons []string `json:"reasons"`
}

// Plan is what a target runs and, when compared with an earlier fleet, what the change does to it.
type Plan struct {
	Target  string   `json:"target"` // "host tester-07" or "role tester"
	Host    string   `json:"host,omitempty"`
	Role    string   `json:"role"`
	Address string   `json:"address,omitempty"`
	Apps    []string `json:"apps"`           // apply order
	Catalog []string `json:"catalog"`        // installable on click
	Wave    string   `json:"wave,omitempty"` // its rollout wave, when the fleet has waves: "canary (1 of 3)"
	Changes []Change `json:"changes,omitempty"`
	// Agent is the herofleet version change the commit makes on the target's agent ("v0.4.0 -> v0.5.0"; "(none)" for
	// no agent: block), when compared with an earlier fleet.
	Agent  string `json:"agent,omitempty"`
	OnHost bool   `json:"on_host,omitempty"` // the changes are from what the host's agent says it runs (PlanOnHost)
	Error  string `json:"error,omitempty"`   // the target could not be resolved on one side
}

// HostFacts is what a host's agent says of the host, for a plan made on it.
type HostFacts struct {
	Running map[string]Running // the apps it has installed, each with what drifted of it
	Clicked []string           // the apps a person installed on click
}

// PlanAll plans every role (for hosts without a hosts file) and every host of after. When before is not nil, each
// plan carries the changes from before to after; targets that before had and after lost are planned as removals.
func PlanAll(before, after *Fleet) []Plan {
	var out []Plan
	for _, r := range after.RoleNames() {
		out = append(out, PlanTarget(before, after, Target{Role: r}))
	}
	for _, h := range after.HostNames() {
		out = append(out, PlanTarget(before, after, Target{Host: h}))
	}
	if before != nil {
		for _, r := range before.RoleNames() {
			if after.Roles[r] == nil {
				out = append(out, PlanTarget(before, after, Target{Role: r}))
			}
		}
		for _, h := range before.HostNames() {
			if after.Hosts[h] == nil {
				out = append(out, PlanTarget(before, after, Target{Host: h}))
			}
		}
	}
	return out
}

// PlanTarget plans one target; a Target with a Host names hosts/<host>.yaml.
func PlanTarget(before, after *Fleet, t Target) Plan { return planTarget(before, after, t, nil) }

// PlanOnHost plans the host an agent runs as (t: its host, role and address, as the agent resolves them) from what
// its agent says it runs: its changes are what the agent decides converging on after does (fleet.Decide): an app
// not installed is installed, one that left removed, a drifted one healed (or, with drift: report, only said).
// With before, each installed app is taken to run before's spec, so a change from before to after is planned too.
func PlanOnHost(before, after *Fleet, t Target, on HostFacts) Plan {
	return planTarget(before, after, t, &on)
}

func planTarget(before, after *Fleet, t Target, on *HostFacts) Plan {
	p := Plan{Target: "role " + t.Role, Host: t.Host, Role: t.Role, OnHost: on != nil}
	if t.Host != "" {
		p.Target = "host " + t.Host
	}
	resolve := func(f *Fleet) (*Desired, error) {
		if f == nil {
			return nil, nil
		}
		if on != nil { // as the agent resolves its host, with the apps installed on click
			base, err := f.Resolve(t)
			if err != nil {
				return nil, err
			}
			keep, _ := base.Offered(on.Clicked)
			return f.With(base, keep)
		}
		if t.Host != "" {
			if f.Hosts[t.Host] == nil {
				return &Desired{Host: t.Host}, nil // the host is not in this fleet: it runs nothing from it
			}
			return f.ForHost(t.Host)
		}
		if f.Roles[t.Role] == nil {
			return &Desired{Role: t.Role}, nil
		}
		return f.ForRole(t.Role)
	}
	a, err := resolve(after)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.Role, p.Address, p.Apps, p.Catalog = a.Role, a.Address, a.Names(), a.Catalog
	if ws := after.Meta.Rollout.Waves; len(ws) > 0 {
		k, name := after.WaveOf(t.Host) // a role's host, without a hosts file, is in the catch-all
		p.Wave = fmt.Sprintf("%s (%d of %d)", name, k+1, len(ws))
	}
	if p.Apps == nil {
		p.Apps = []string{}
	}
	if p.Catalog == nil {
		p.Catalog = []string{}
	}
	var b *Desired
	if before != nil {
		if b, err = resolve(before); err != nil {
			p.Error = "before: " + err.Error()
			return p
		}
	}
	switch {
	case on != nil:
		running := map[string]Running{}
		for name, r := range on.Running {
			spec, ok := a.App(name)
			if b != nil {
				spec, ok = b.App(name)
			}
			if ok {
				r.Spec = &spec
			}
			running[name] = r
		}
		p.Changes = changes(a, HostState{Running: running, Drift: after.Meta.Drift})
	case b != nil:
		p.Changes = Diff(b, a)
	}
	if before != nil {
		p.Agent = agentChange(before.Meta.Agent, after.Meta.Agent)
	}
	return p
}

// agentChange says how the agent version a fleet names moves ("v0.4.0 -> v0.5.0"), or "" when it does not.
func agentChange(before, after *AgentRelease) string {
	v := func(r *AgentRelease) string {
		if r == nil {
			return "(none)"
		}
		return r.Version
	}
	if v(before) == v(after) {
		return ""
	}
	return v(before) + " -> " + v(after)
}

// Diff says what moving a host from before to after does to each app, in after's apply order, removals last
// (dependents first). It is Decide with the host running before's spec of each app and nothing held: a plan and an
// agent decide with the same code.
func Diff(before, after *Desired) []Change {
	running := map[string]Running{}
	for _, r := range before.Apps {
		running[r.Name] = Running{Spec: &r}
	}
	return changes(after, HostState{Running: running})
}

// changes is what Decide says converging a host in state h on after does, each app's change: a keep is none,
// unless it carries a drift that is only said.
func changes(after *Desired, h HostState) []Change {
	var out []Change
	for _, dec := range Decide(after, nil, h) {
		switch dec.Verb {
		case VerbKeep:
			if dec.Action == Report {
				out = append(out, dec.Change)
			}
		case VerbWaitNeeds:
			ch := dec.Change
			ch.Reasons = append(slices.Clone(ch.Reasons), "waits: needs "+dec.Need+", which is not installed")
			out = append(out, ch)
		default:
			out = append(out, dec.Change)
		}
	}
	return out
}

// diffApp compares the parts of an app that the host runs; title and description change nothing on a host.
func diffApp(o, n Resolved) (Change, bool) {
	var upgrade, restart []string
	if o.Ref != n.Ref {
		upgrade = append(upgrade, fmt.Sprintf("source.ref %s -> %s", o.Ref, n.Ref))
	}
	if o.Ref == n.Ref && o.Locked != "" && n.Locked != "" && o.Locked != n.Locked {
		upgrade = append(upgrade, lockMove(n.Name, n.Ref, o.Locked, n.Locked))
	}
	if o.Source.Repo != n.Source.Repo {
		upgrade = append(upgrade, fmt.Sprintf("source.repo %s -> %s", o.Source.Repo, n.Source.Repo))
	}
	if !reflect.DeepEqual(o.Build, n.Build) {
		upgrade = append(upgrade, "build changed")
	}
	if !reflect.DeepEqual(o.Artifact, n.Artifact) {
		upgrade = append(upgrade, "artifact changed")
	}
	restart = append(restart, diffBinaries(o.Binaries, n.Binaries)...)
	if !reflect.DeepEqual(o.Hooks, n.Hooks) {
		restart = append(restart, "hooks changed")
	}
	switch {
	case len(upgrade) > 0:
		return Change{App: n.Name, Action: Upgrade, Reasons: append(upgrade, restart...)}, true
	case len(restart) > 0:
		return Change{App: n.Name, Action: Restart, Reasons: restart}, true
	}
	return Change{}, false
}

func diffBinaries(o, n []Binary) []string {
	var out []string
	old := map[string]Binary{}
	for _, b := range o {
		old[b.Name] = b
	}
	seen := map[string]bool{}
	for _, b := range n {
		seen[b.Name] = true
		ob, ok := old[b.Name]
		if !ok {
			out = append(out, fmt.Sprintf("binary %s added", b.Name))
			continue
		}
		var fields []string
		for _, fd := range []struct {
			name string
			same bool
		}{
			{"kind", ob.Kind == b.Kind}, {"path", ob.Path == b.Path}, {"args", slices.Equal(ob.Args, b.Args)},
			{"env", maps.Equal(ob.Env, b.Env)}, {"listen", ob.Listen == b.Listen},
		} { // health and url change what the agent probes and shows, not what runs
			if !fd.same {
				fields = append(fields, fd.name)
			}
		}
		if len(fields) > 0 {
			out = append(out, fmt.Sprintf("binary %s: %s changed", b.Name, strings.Join(fields, ", ")))
		}
	}
	for _, b := range o {
		if !seen[b.Name] {
			out = append(out, fmt.Sprintf("binary %s removed", b.Name))
		}
	}
	return out
}
