package agent

import (
	"encoding/json"
	"slices"
	"sort"
	"time"

	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// Status is a snapshot of the host, for the cockpit API.
type Status struct {
	Host        string       `json:"host"`
	Role        string       `json:"role"`
	Address     string       `json:"address"`
	Fleet       FleetStatus  `json:"fleet"`
	Refused     []Refused    `json:"refused"`
	Quarantined []Quarantine `json:"quarantined"`
	Apps        []AppStatus  `json:"apps"`            // desired apps in apply order, then the catalog, then leftovers
	Catalog     []string     `json:"catalog"`         // installable on click
	Links       []fleet.Link `json:"links,omitempty"` // the role's links (the fleet view on an admin VM)
	// AgentVersion is the herofleet version the agent runs; Agent says more (trial, the last refusal or rollback).
	AgentVersion string       `json:"agent_version,omitempty"`
	Agent        *AgentStatus `json:"agent,omitempty"`
}

// FleetStatus is the fleet part of the status.
type FleetStatus struct {
	Commit    string         `json:"commit"`     // applied
	Head      string         `json:"head"`       // newest seen
	AppliedAt time.Time      `json:"applied_at"` // RFC 3339 UTC; null before the first apply
	LastSync  time.Time      `json:"last_sync"`  // RFC 3339 UTC; null before the first sync
	State     api.SyncState  `json:"state"`      // ok | syncing | refused | suspended | error | waiting
	Error     string         `json:"error"`
	Rollout   *RolloutStatus `json:"rollout,omitempty"` // the host's wave and what a held commit waits for
}

// MarshalJSON writes every field of the contract's fleet object: times as RFC 3339 UTC, null before they happen.
func (f FleetStatus) MarshalJSON() ([]byte, error) {
	orNull := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.UTC()
		return &t
	}
	return json.Marshal(struct {
		Commit    string         `json:"commit"`
		Head      string         `json:"head"`
		AppliedAt *time.Time     `json:"applied_at"`
		LastSync  *time.Time     `json:"last_sync"`
		State     api.SyncState  `json:"state"`
		Error     string         `json:"error"`
		Rollout   *RolloutStatus `json:"rollout,omitempty"`
	}{f.Commit, f.Head, orNull(f.AppliedAt), orNull(f.LastSync), f.State, f.Error, f.Rollout})
}

// AppStatus is one app on this host.
type AppStatus struct {
	Name      string         `json:"name"`
	Title     string         `json:"title,omitempty"`
	State     api.AppState   `json:"state"`
	Reason    string         `json:"reason,omitempty"`
	Code      api.ReasonCode `json:"reason_code,omitempty"` // the reason, for machines
	Phase     api.Phase      `json:"phase,omitempty"`       // while it is being applied
	Rev       string         `json:"rev,omitempty"`         // installed revision
	OffCommit string         `json:"off_commit,omitempty"`  // installed, but not exactly what the applied commit asks for: what is missing
	Why       string         `json:"why,omitempty"`         // why the app is on the host
	Clicked   bool           `json:"clicked,omitempty"`
	Offered   bool           `json:"offered,omitempty"` // in the catalog, not (yet) wanted: install on click
	Job       string         `json:"job,omitempty"`
	Waiting   *Waiting       `json:"waiting,omitempty"`     // a change held for a maintenance window or a resume
	Last      *LastAction    `json:"last_action,omitempty"` // the last action taken on the app, and why
	Binaries  []BinaryStatus `json:"binaries"`
	Installed time.Time      `json:"installed_at,omitzero"`
	Drift     []string       `json:"drift,omitempty"` // what drifted, one file each, as the agent decides with it (plan --on-host reads it)
}

// BinaryStatus is one binary of an app.
type BinaryStatus struct {
	Name     string          `json:"name"`
	Kind     string          `json:"kind"`
	State    api.BinaryState `json:"state,omitempty"` // empty when the app is not installed
	Reason   string          `json:"reason,omitempty"`
	Code     api.ReasonCode  `json:"reason_code,omitempty"` // the reason, for machines, when the agent knows it (drift)
	PID      int             `json:"pid,omitempty"`
	URL      string          `json:"url,omitempty"`
	Restarts int             `json:"restarts"`
	Since    time.Time       `json:"since,omitzero"`
	Until    time.Time       `json:"until,omitzero"` // waiting: when the window opens
}

// OnHost is what a plan made on this host starts from (fleet.PlanOnHost): the host as the agent resolves it, the
// apps installed (with what drifted of each, as the agent decides with it) and those installed on click.
func (st Status) OnHost() (fleet.Target, fleet.HostFacts) {
	facts := fleet.HostFacts{Running: map[string]fleet.Running{}}
	for _, app := range st.Apps {
		if app.State == api.AppInstalled {
			facts.Running[app.Name] = fleet.Running{Drift: app.Drift}
		}
		if app.Clicked {
			facts.Clicked = append(facts.Clicked, app.Name)
		}
	}
	return fleet.Target{Host: st.Host, Role: st.Role, Address: st.Address}, facts
}

// Status takes a snapshot.
func (a *Agent) Status() Status {
	st := a.host.status(a.cfg, a.sup)
	if as := a.selfStatus(); as != nil {
		st.AgentVersion, st.Agent = as.Version, as
	}
	return st
}

// status is the snapshot of the host, taken under its lock; the supervisor says how each binary runs.
func (h *hostState) status(cfg *Config, sup *supervise.Supervisor) Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := Status{Host: cfg.Host, Role: cfg.Role, Address: cfg.Address, Refused: slices.Clone(h.st.Refused)}
	if st.Refused == nil {
		st.Refused = []Refused{}
	}
	st.Fleet = FleetStatus{
		Commit: h.st.Fleet.Commit, Head: h.st.Fleet.Head, AppliedAt: h.st.Fleet.AppliedAt,
		LastSync: h.sync.lastSync, State: h.sync.state, Error: h.sync.err, Rollout: h.rolloutStatus(),
	}
	if len(h.st.Refused) > 0 && st.Fleet.State == api.SyncOK && h.st.Fleet.Head == h.st.Refused[len(h.st.Refused)-1].Commit {
		st.Fleet.State = api.SyncRefused
	}
	st.Quarantined = []Quarantine{}
	for _, q := range h.st.Quarantine {
		st.Quarantined = append(st.Quarantined, q)
	}
	sort.Slice(st.Quarantined, func(i, j int) bool { return st.Quarantined[i].App < st.Quarantined[j].App })
	seen := map[string]bool{}
	if d := h.desired; d != nil {
		st.Role, st.Address = d.Role, d.Address
		st.Catalog = slices.Clone(d.Catalog)
		st.Links = slices.Clone(d.Links)
		for _, app := range d.Apps {
			seen[app.Name] = true
			as := h.appStatusOf(sup, app.Name)
			as.Title, as.Why = app.Title, app.Why
			if as.Installed.IsZero() {
				for _, b := range app.Binaries {
					as.Binaries = append(as.Binaries, BinaryStatus{Name: b.Name, Kind: b.Kind})
				}
			}
			st.Apps = append(st.Apps, as)
		}
		for _, name := range d.Catalog {
			seen[name] = true
			as := h.appStatusOf(sup, name)
			as.Offered = true
			if h.good != nil && h.good.Apps[name] != nil {
				app := h.good.Apps[name]
				as.Title = app.Title
				if as.Installed.IsZero() {
					for _, b := range app.Binaries {
						as.Binaries = append(as.Binaries, BinaryStatus{Name: b.Name, Kind: b.Kind})
					}
				}
			}
			st.Apps = append(st.Apps, as)
		}
	}
	var rest []string
	for name := range h.st.Apps {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	for _, name := range rest {
		st.Apps = append(st.Apps, h.appStatusOf(sup, name))
	}
	if st.Catalog == nil {
		st.Catalog = []string{}
	}
	return st
}

// appStatusOf builds one app's status; h.mu is held.
func (h *hostState) appStatusOf(sup *supervise.Supervisor, name string) AppStatus {
	as := AppStatus{Name: name, State: api.AppNotInstalled, Clicked: slices.Contains(h.st.Clicked, name)}
	s := h.progress[name]
	if s != nil {
		as.Reason, as.Code, as.Phase = s.reason.String(), s.reason.Code, s.phase
	}
	if j := h.jobs.active(name); j != nil {
		as.Job = j.ID
	}
	if la, ok := h.st.Actions[name]; ok {
		as.Last = &la
	}
	inst := h.st.Apps[name]
	w := h.waiting[name]
	if w != nil {
		wc := *w
		as.Waiting = &wc
	}
	switch {
	case inst != nil:
		as.State, as.Rev, as.Installed = api.AppInstalled, inst.Rev, inst.InstalledAt
		as.OffCommit = h.offCommit(name, inst)
		for _, p := range inst.Binaries {
			bs := binaryStatus(h.st, sup, p)
			if w != nil && (bs.State == api.BinRunning || bs.State == api.BinStarting) {
				bs.State, bs.Reason, bs.Until = api.BinWaiting, w.Reason, w.Until
			}
			as.Binaries = append(as.Binaries, bs)
		}
	case s != nil && s.phase != "":
		as.State = api.AppInstalling
	case s != nil && s.failed:
		as.State = api.AppFailed
	}
	h.overlayDrift(&as)
	return as
}

// binaryStatus is how one installed binary runs.
func binaryStatus(st *State, sup *supervise.Supervisor, p Proc) BinaryStatus {
	bs := BinaryStatus{Name: p.Name, Kind: p.Kind, URL: p.URL}
	if st.isStopped(p.Name) {
		bs.State, bs.Reason = api.BinStopped, api.Reason{Code: api.ReasonStoppedByPerson}.String()
		return bs
	}
	ps, ok := sup.Status(p.Name)
	if !ok {
		bs.State, bs.Reason = api.BinFailed, api.Reason{Code: api.ReasonNotRunning}.String()
		return bs
	}
	bs.PID, bs.Restarts, bs.Since, bs.Reason = ps.PID, ps.Restarts, ps.Since.UTC(), ps.Reason
	switch ps.State {
	case supervise.Running:
		bs.State = api.BinRunning
	case supervise.Starting, supervise.Backoff:
		bs.State = api.BinStarting
	case supervise.Crashloop:
		bs.State = api.BinCrashloop
	case supervise.Stopped:
		bs.State = api.BinStopped
	default:
		bs.State = api.BinFailed
	}
	return bs
}
