package agent

import (
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// LastAction is the last thing the agent did to an app, and why: "why did it restart?" always has an answer, in
// the status, in the state file (it survives a restart) and in the log.
type LastAction struct {
	Action  fleet.Action `json:"action"` // install | upgrade | restart | remove | heal
	Reasons []string     `json:"reasons"`
	Commit  string       `json:"commit"` // the fleet commit it applied
	At      time.Time    `json:"at"`
	Error   string       `json:"error,omitempty"` // the action failed (rolled back, quarantined)
}

// maxActions bounds the last actions kept: one per app, removed apps included, oldest dropped first.
const maxActions = 200

// recordAction keeps ch as the app's last action, saved with the state, and logs it with its reasons; failed is
// the zero api.Reason when the action succeeded.
func (a *Agent) recordAction(ch fleet.Change, commit string, failed api.Reason) {
	la := LastAction{Action: ch.Action, Reasons: ch.Reasons, Commit: commit, At: a.now().UTC(), Error: failed.String()}
	if !failed.IsZero() {
		a.log.Warn("action failed", "app", ch.App, "action", ch.Action, "reasons", ch.Reasons, "commit", short(commit), "err", la.Error)
	} else {
		a.log.Info("action done", "app", ch.App, "action", ch.Action, "reasons", ch.Reasons, "commit", short(commit))
	}
	_ = a.host.recordAction(ch.App, la)
}
