package fleetview

import (
	"slices"
	"strings"
	"time"

	"github.com/herofleet/herofleet/agent"
)

// Report is the fleet at one glance: a row per host, compared with the fleet's HEAD.
type Report struct {
	Fleet  string    `json:"fleet"`
	Head   string    `json:"head"`   // the fleet repo's HEAD commit
	Source string    `json:"source"` // "agents", or the Prometheus URL (credentials redacted)
	At     time.Time `json:"at"`
	Hosts  []HostRow `json:"hosts"` // problems first
}

// HostRow is one host.
type HostRow struct {
	Host     string          `json:"host"`
	Role     string          `json:"role"`
	Agent    string          `json:"agent,omitempty"`         // the URL asked (direct mode)
	Commit   string          `json:"commit"`                  // the fleet commit applied
	Version  string          `json:"agent_version,omitempty"` // the herofleet version its agent runs
	OnHead   bool            `json:"on_head"`                 // Commit is the fleet's HEAD
	State    string          `json:"state"`                   // the agent's fleet state (ok, syncing, refused, ...) or "stale"
	Healthy  bool            `json:"healthy"`                 // fleet state fine and every app it should run runs
	Expected int             `json:"apps_expected"`           // apps it should run
	Running  int             `json:"apps_running"`            // of those, running
	Problems []agent.Problem `json:"problems"`                // every app or binary that is not fine
	LastSync time.Time       `json:"last_sync,omitzero"`
	Stale    string          `json:"stale,omitempty"` // why the host is stale: no answer, or an old last sync
}

// StateStale is a row's state when its agent does not answer or has not synced for StalePeriods sync periods.
const StateStale = "stale"

// StalePeriods is how many sync periods without a sync make a host stale.
const StalePeriods = 3

// Fine reports a host on HEAD, healthy and not stale.
func (h HostRow) Fine() bool { return h.Stale == "" && h.OnHead && h.Healthy }

// OK reports a fleet whose every host is fine: `herofleet fleet status` exits 0.
func (r Report) OK() bool {
	for _, h := range r.Hosts {
		if !h.Fine() {
			return false
		}
	}
	return len(r.Hosts) > 0
}

// markStale makes the row stale when its last sync is older than StalePeriods periods (a host that never
// synced is stale too).
func (h *HostRow) markStale(now time.Time, period time.Duration) {
	if h.Stale != "" {
		return
	}
	switch {
	case h.LastSync.IsZero():
		h.Stale = "it has never synced"
	case now.Sub(h.LastSync) > StalePeriods*period:
		h.Stale = "its last sync is older than " + (StalePeriods * period).String()
	}
	if h.Stale != "" {
		h.State = StateStale
	}
}

// rank orders rows: stale, then unhealthy, then behind HEAD, then fine.
func (h HostRow) rank() int {
	switch {
	case h.Stale != "":
		return 0
	case !h.Healthy:
		return 1
	case !h.OnHead:
		return 2
	}
	return 3
}

// sortRows puts problems first, then hosts by name.
func sortRows(rows []HostRow) {
	slices.SortFunc(rows, func(a, b HostRow) int {
		if a.rank() != b.rank() {
			return a.rank() - b.rank()
		}
		return strings.Compare(a.Host, b.Host)
	})
}
