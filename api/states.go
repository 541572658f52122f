package api

import (
	"fmt"

	"github.com/herofleet/herofleet/internal/redact"
)

// SyncState is the fleet part of the host: the cockpit contract's fleet.state.
type SyncState string

// Sync states.
const (
	SyncOK        SyncState = "ok"
	SyncSyncing   SyncState = "syncing"
	SyncRefused   SyncState = "refused"   // the newest commit was refused; the last good one keeps running
	SyncSuspended SyncState = "suspended" // a person holds new commits
	SyncError     SyncState = "error"     // the fleet repo could not be synced; whatever runs keeps running
	SyncWaiting   SyncState = "waiting"   // a newer commit waits for the earlier rollout waves (fleet.rollout says why)
)

// AppState is one app on the host: a bundle that is not installed, being installed or failed, or installed.
type AppState string

// App states.
const (
	AppNotInstalled AppState = "not-installed"
	AppInstalling   AppState = "installing"
	AppFailed       AppState = "failed"
	AppInstalled    AppState = "installed"
	// AppQuarantined is an app held until its spec changes (it may still run its previous revision): a state of
	// the fleet view's series (herofleet_app_info) and of problems only; the status and the cockpit show the app's
	// own state, with the quarantine as its reason.
	AppQuarantined AppState = "quarantined"
)

// BinaryState is one installed binary, as the cockpit shows it.
type BinaryState string

// Binary states.
const (
	BinStarting  BinaryState = "starting"
	BinRunning   BinaryState = "running"
	BinStopped   BinaryState = "stopped" // by a person: it stays stopped until started
	BinCrashloop BinaryState = "crashloop"
	BinFailed    BinaryState = "failed"
	BinWaiting   BinaryState = "waiting" // running its current revision; a change waits for a window (until)
)

// ProblemState is the state of an app or binary that is not fine, as the agent's verdict and herofleet_problem_info
// say it: the app's AppState (AppQuarantined included) or, for a binary, its BinaryState.
type ProblemState string

// ProblemQuarantined is the problem of a quarantined app.
const ProblemQuarantined = ProblemState(AppQuarantined)

// ProblemAgentVersion is the host's problem (no app) while the agent version its applied commit names was refused
// or rolled back there: the host is not healthy on that commit, so later rollout waves do not try that version.
const ProblemAgentVersion ProblemState = "agent-version"

// RowState is the state of a cockpit row: its app's AppState for a bundle row, its binary's BinaryState for a
// binary row.
type RowState string

// Phase is where an app's apply (and its install job) is.
type Phase string

// Phases, in order.
const (
	PhaseFetching Phase = "fetching"
	PhaseBuilding Phase = "building"
	PhaseStarting Phase = "starting"
	PhaseHealthy  Phase = "healthy"
	PhaseFailed   Phase = "failed"
)

// ReasonCode names why something is not fine, for machines; Reason.String says it for people.
type ReasonCode string

// Reason codes.
const (
	ReasonNeedsMissing    ReasonCode = "needs-missing"     // Subject: the app it needs
	ReasonUnresolved      ReasonCode = "unresolved"        // its source or ref could not be fetched
	ReasonApplyFailed     ReasonCode = "apply-failed"      // rolled back (or removed) and quarantined
	ReasonQuarantined     ReasonCode = "quarantined"       // the spec that failed is still wanted
	ReasonInterrupted     ReasonCode = "interrupted"       // the agent's own stop cut the apply short
	ReasonDiskFull        ReasonCode = "disk-full"         // the disk filled during the apply: not quarantined
	ReasonPreRemoveFailed ReasonCode = "pre-remove-failed" // removed anyway
	ReasonStoppedByPerson ReasonCode = "stopped-by-person"
	ReasonNotRunning      ReasonCode = "not-running"
	ReasonInstalling      ReasonCode = "installing"     // Subject: the phase the install is in
	ReasonNextSync        ReasonCode = "next-sync"      // wanted here, not there yet: the next sync installs it
	ReasonInstallFailed   ReasonCode = "install-failed" // and nothing more is known
	ReasonBinaryState     ReasonCode = "binary-state"   // Subject: the binary's state, which says it (starting, crashloop, …)
	ReasonDrift           ReasonCode = "drift"          // what it runs changed on the host since install; Detail says what and when
	// ReasonNotOnCommit: an expected app does not run exactly what the applied commit asks for (its installed key
	// is not the wanted key) or carries a reason; Detail says what is missing. A problem's code only.
	ReasonNotOnCommit ReasonCode = "not-on-commit"
	// ReasonBuildToolMissing: the build command's executable is not on this host (make is not installed). That is the
	// host's fault, not the spec's, as a full disk is: not quarantined, and the next sync tries again. Detail names
	// the tool and the PATH it was looked for on.
	ReasonBuildToolMissing ReasonCode = "build-tool-missing"
	// ReasonAgentRefused: the agent version the applied commit names could not be prepared (download, sha256, not a
	// release archive, too big, selftest failed); nothing changed, and that commit does not try it again. Detail
	// says why. The host's, not an app's.
	ReasonAgentRefused ReasonCode = "agent-refused"
	// ReasonAgentRollback: a new agent version did not finish a healthy converge in time (it crashed, hung or stayed
	// unhealthy): the previous one came back by itself and that version is not tried again. Detail says why.
	ReasonAgentRollback ReasonCode = "agent-rollback"
)

// AgentState is how the agent's own version stands.
type AgentState string

// Agent states.
const (
	AgentConfirmed AgentState = "confirmed" // it finished a healthy converge (or is where a rollback came back to)
	AgentTrial     AgentState = "trial"     // just switched to: it must finish a healthy converge by its deadline
)

// Reason is why an app or binary is not fine: a value made where the cause is known and turned into text only
// where a person reads it. The zero Reason means fine.
type Reason struct {
	Code    ReasonCode
	Subject string // what it names: the missing need
	Detail  string // the error or the held change, as text
}

// IsZero reports a fine state.
func (r Reason) IsZero() bool { return r.Code == "" }

func (r Reason) String() string { return redact.Text(r.text()) }

// text says the reason for people, before redaction.
func (r Reason) text() string {
	switch r.Code {
	case "":
		return ""
	case ReasonNeedsMissing:
		return fmt.Sprintf("waiting: needs %s, which is not installed", r.Subject)
	case ReasonUnresolved:
		return "fetch: " + r.Detail
	case ReasonQuarantined:
		return "quarantined: " + r.Detail
	case ReasonInterrupted:
		return "interrupted: " + r.Detail
	case ReasonDiskFull, ReasonBuildToolMissing:
		return r.Detail + " (not quarantined: the next sync tries again)"
	case ReasonPreRemoveFailed:
		return "pre-remove hook failed: " + r.Detail
	case ReasonStoppedByPerson:
		return "stopped by a person"
	case ReasonNotRunning:
		return "not running"
	case ReasonInstalling:
		return "installing: " + r.Subject
	case ReasonNextSync:
		return "waiting for the next sync to install it"
	case ReasonInstallFailed:
		return "install failed"
	case ReasonBinaryState:
		return r.Subject
	case ReasonDrift:
		return r.Detail
	case ReasonNotOnCommit:
		return "not on the applied commit: " + r.Detail
	case ReasonAgentRefused:
		return "agent " + r.Subject + " refused: " + r.Detail
	case ReasonAgentRollback:
		return "agent " + r.Subject + " rolled back: " + r.Detail
	}
	return r.Detail // apply-failed: the detail says it whole
}

// ReasonOf is the reason of a failed step: the code, and the error as text with credentials redacted.
func ReasonOf(code ReasonCode, err error) Reason {
	return Reason{Code: code, Detail: redact.Text(err.Error())}
}
