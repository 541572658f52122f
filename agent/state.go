package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/atomicfile"
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

// Installed is one app's running revision, recorded with everything needed to start it again without the fleet.
type Installed struct {
	App         string       `json:"app"`
	Rev         string       `json:"rev"`
	Key         string       `json:"key"`
	BuildDir    string       `json:"build_dir"`
	InstalledAt time.Time    `json:"installed_at"`
	Binaries    []Proc       `json:"binaries"`
	Hooks       []fleet.Hook `json:"hooks,omitempty"` // pre-remove hooks run from here when the app leaves
}

// Proc is one binary exactly as it is started.
type Proc struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	Path   string   `json:"path"`
	Args   []string `json:"args,omitempty"`
	Env    []string `json:"env"`
	Dir    string   `json:"dir"`
	Listen string   `json:"listen,omitempty"` // expanded
	Health string   `json:"health,omitempty"`
	URL    string   `json:"url,omitempty"` // expanded
}

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
