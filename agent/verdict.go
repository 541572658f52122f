package agent

import (
	"slices"

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

// Healthy reports a host whose fleet state is fine and that runs every app it should, each binary running.
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
			if app.Code == api.ReasonDrift { // it runs, but not what was installed: not healthy on its commit
				v.Problems = append(v.Problems, Problem{App: app.Name, State: api.ProblemState(app.State), Code: app.Code, Reason: app.Reason})
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
	return v
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
