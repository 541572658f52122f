package agent

import (
	"slices"
	"strings"

	"github.com/herofleet/herofleet/api"
)

// Verdict is how fleet tools judge a host from its status: how many of the apps it should run do run, and every
// app or binary that is not fine with its reason. The agent exports it as series (herofleet_host_healthy,
// herofleet_apps_expected, herofleet_apps_running, herofleet_problem_info) and `herofleet fleet status` computes
// it from a status it fetched, so both ways of looking at the fleet agree.
type Verdict struct {
	Expected int       `json:"expected"` // apps the host should run: its desired apps and those installed on click
	Running  int       `json:"running"`  // of those, installed with every binary running (or waiting for a window)
	Problems []Problem `json:"problems"`
}

// Problem is one app or binary that is not fine.
type Problem struct {
	App    string           `json:"app"`
	Binary string           `json:"binary,omitempty"`
	State  api.ProblemState `json:"state"`            // quarantined, failed, installing, not-installed, or a binary state
	Code   api.ReasonCode   `json:"code,omitempty"`   // the reason, for machines
	Reason string           `json:"reason,omitempty"` // the reason, for people
}

// Healthy reports a host healthy on its applied commit: its fleet state is fine (ok, or a sync under way, or a
// newer commit held by a person or for the earlier rollout waves) and every app it should run runs exactly what
// that commit asks for, each binary running, with no app carrying a reason. The agent's herofleet_host_healthy,
// `herofleet fleet status` and the rollout gate all judge by it.
func (st Status) Healthy() bool { return st.healthyWith(st.Verdict()) }

// healthyWith is Healthy with the status's verdict already worked out.
func (st Status) healthyWith(v Verdict) bool {
	return fleetStateFine(st.Fleet.State) && len(v.Problems) == 0 && v.Running == v.Expected
}

// fleetStateFine: ok, or a sync under way, or held on purpose: by a person, or for the earlier rollout waves
// (the host runs its commit as well as before).
func fleetStateFine(s api.SyncState) bool {
	return s == api.SyncOK || s == api.SyncSyncing || s == api.SyncSuspended || s == api.SyncWaiting
}

// Expected reports whether the host should run the app: it is desired, or was installed on click.
func (a AppStatus) Expected() bool {
	if a.Offered {
		return a.Clicked || a.State != api.AppNotInstalled
	}
	return a.Why != ""
}

// Verdict judges the snapshot.
func (st Status) Verdict() Verdict {
	v := Verdict{Problems: []Problem{}}
	quarantined := map[string]Quarantine{}
	for _, q := range st.Quarantined {
		quarantined[q.App] = q
	}
	for _, app := range st.Apps {
		if !app.Expected() {
			continue
		}
		v.Expected++
		before := len(v.Problems)
		switch app.State {
		case api.AppInstalled:
			running := true
			for _, b := range app.Binaries {
				if b.State == api.BinRunning {
					continue
				}
				if b.State != api.BinWaiting {
					running = false
				}
				v.Problems = append(v.Problems, Problem{App: app.Name, Binary: b.Name, State: api.ProblemState(b.State), Reason: b.Reason})
			}
			if running {
				v.Running++
			}
			if _, held := quarantined[app.Name]; !held {
				p, off := notOnCommit(app)
				switch {
				case app.Code == api.ReasonDrift: // it runs, but not what was installed: not healthy on its commit
					v.Problems = append(v.Problems, Problem{App: app.Name, State: api.ProblemState(app.State), Code: app.Code, Reason: app.Reason})
				case off:
					v.Problems = append(v.Problems, p)
				}
			}
		case api.AppInstalling:
			v.Problems = append(v.Problems, Problem{App: app.Name, State: api.ProblemState(app.State), Code: app.Code, Reason: orText(app.Reason, string(app.Phase))})
		default:
			v.Problems = append(v.Problems, Problem{App: app.Name, State: api.ProblemState(app.State), Code: app.Code, Reason: app.Reason})
		}
		if q, ok := quarantined[app.Name]; ok && !slices.ContainsFunc(v.Problems[before:], func(p Problem) bool { return p.Binary == "" }) {
			v.Problems = append(v.Problems, Problem{App: app.Name, State: api.ProblemQuarantined, Code: api.ReasonQuarantined, Reason: q.Reason})
		}
		delete(quarantined, app.Name)
	}
	for _, q := range st.Quarantined {
		if _, left := quarantined[q.App]; left { // a quarantined app the host no longer lists
			v.Problems = append(v.Problems, Problem{App: q.App, State: api.ProblemQuarantined, Code: api.ReasonQuarantined, Reason: q.Reason})
		}
	}
	if ag := st.Agent; ag != nil && ag.Code != "" {
		// the agent version the applied commit names failed here: later waves must not try it
		v.Problems = append(v.Problems, Problem{State: api.ProblemAgentVersion, Code: ag.Code, Reason: ag.Reason})
	}
	return v
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// notOnCommit is the problem of an installed app that does not run exactly what the applied commit asks for (its
// installed key is not the wanted key: old binaries beside an unresolved revision, a build rolled back on a full
// disk, a change held back) or that carries a reason.
func notOnCommit(app AppStatus) (Problem, bool) {
	if app.OffCommit == "" && app.Code == "" {
		return Problem{}, false
	}
	var why []string
	if app.OffCommit != "" {
		why = append(why, app.OffCommit)
	}
	if app.Reason != "" {
		why = append(why, app.Reason)
	} else if app.Code != "" {
		why = append(why, string(app.Code))
	}
	return Problem{App: app.Name, State: api.ProblemState(app.State), Code: api.ReasonNotOnCommit,
		Reason: api.Reason{Code: api.ReasonNotOnCommit, Detail: strings.Join(why, ": ")}.String()}, true
}
