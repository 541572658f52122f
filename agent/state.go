package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/herofleet/herofleet/agent/apply"
	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/internal/atomicfile"
	"github.com/herofleet/herofleet/internal/redact"
)

// State is what the agent keeps across restarts: <dir>/state.json.
type State struct {
	Fleet      FleetState            `json:"fleet"`
	Refused    []Refused             `json:"refused,omitempty"`
	Apps       map[string]*Installed `json:"apps"`
	Quarantine map[string]Quarantine `json:"quarantine,omitempty"`
	Clicked    []string              `json:"clicked,omitempty"` // apps installed on click, in click order
	Stopped    []string              `json:"stopped,omitempty"` // binaries stopped by a person
	Actions    map[string]LastAction `json:"actions,omitempty"` // per app, the last action taken and why
	// Runs is, per binary, the process last started for it: a restarted agent adopts the ones still running as
	// recorded instead of starting them again (supervise.Supervisor.Adopt). Absent in a state written before it.
	Runs map[string]supervise.Run `json:"runs,omitempty"`
}

// FleetState is the fleet commit applied and the newest one seen.
type FleetState struct {
	Commit    string    `json:"commit,omitempty"`
	Head      string    `json:"head,omitempty"`
	AppliedAt time.Time `json:"applied_at,omitzero"`
}

// Refused is a fleet commit the agent would not apply.
type Refused struct {
	Commit string `json:"commit"`
	Reason string `json:"reason"`
}

// Quarantine holds an app back until its resolved spec changes.
type Quarantine struct {
	App    string    `json:"app"`
	Rev    string    `json:"rev"`
	Key    string    `json:"key"` // the spec that failed; a different key lifts the quarantine
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
}

// Installed is one app's running revision, recorded with everything needed to start it again without the fleet
// (the apply transaction's type, stored as is).
type Installed = apply.Installed

// Proc is one binary exactly as it is started.
type Proc = apply.Proc

func newState() *State {
	return &State{Apps: map[string]*Installed{}, Quarantine: map[string]Quarantine{}}
}

// loadState reads the state file; a missing file is an empty state.
func loadState(path string) (*State, error) {
	st := newState()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	if st.Apps == nil {
		st.Apps = map[string]*Installed{}
	}
	if st.Quarantine == nil {
		st.Quarantine = map[string]Quarantine{}
	}
	for app, q := range st.Quarantine { // a state written before quarantine and refusal reasons were redacted
		q.Reason = redact.Text(q.Reason)
		st.Quarantine[app] = q
	}
	for i := range st.Refused {
		st.Refused[i].Reason = redact.Text(st.Refused[i].Reason)
	}
	return st, nil
}

// save writes the state atomically: a temp file, fsync, rename over the old one, fsync of the folder. A kill at
// any moment leaves either the old or the new state.
func (st *State) save(path string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeAtomic(path, b, 0o600)
}

// writeAtomic is atomicfile.Write with the agent's error text.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	if err := atomicfile.Write(path, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func (st *State) isStopped(binary string) bool { return slices.Contains(st.Stopped, binary) }

func (st *State) setStopped(binary string, stopped bool) {
	st.Stopped = slices.DeleteFunc(st.Stopped, func(s string) bool { return s == binary })
	if stopped {
		st.Stopped = append(st.Stopped, binary)
	}
}
