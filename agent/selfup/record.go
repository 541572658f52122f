// Package selfup is how an agent replaces itself through the fleet: the record of which herofleet version is
// current in the agent's dir (<dir>/agent/current), what any binary that starts the agent does with it (exec the
// current version, or roll an unconfirmed one back), and the preparation of a new version (download, sha256,
// unpack, selftest). The agent package decides when; this package holds no agent state of its own.
package selfup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/herofleet/herofleet/internal/atomicfile"
)

// Version is one herofleet binary an agent may run: its version and the executable.
type Version struct {
	Version string `json:"version"`
	Exe     string `json:"exe"`
}

// Record is <dir>/agent/current: which version the agent of this dir runs, the one before it, and how the last
// change went. It is written atomically, whole, by Save.
type Record struct {
	Current  Version  `json:"current"`
	Previous *Version `json:"previous,omitempty"`
	// Confirmed: Current finished a healthy converge (or is the version a rollback came back to).
	Confirmed bool `json:"confirmed"`
	// Deadline: an unconfirmed Current is rolled back once it passes, by itself or by whatever starts the agent.
	Deadline time.Time `json:"deadline,omitzero"`
	// Starts counts the starts of an unconfirmed Current: a version that keeps crashing is rolled back after MaxStarts.
	Starts int `json:"starts,omitempty"`
	// HealthyBefore: the host was healthy on its commit when the switch happened; then the new version must make it
	// healthy again to be confirmed, else a successful converge is enough.
	HealthyBefore bool `json:"healthy_before,omitempty"`
	// Commit is the fleet commit that named Current.
	Commit string `json:"commit,omitempty"`
	// Failed are versions rolled back: not tried again (a newer commit naming another version is).
	Failed []string `json:"failed,omitempty"`
	// Refused is the last version a commit named that could not be prepared: not tried again on that commit.
	Refused *Event `json:"refused,omitempty"`
	// Rollback is the last rollback.
	Rollback *Event `json:"rollback,omitempty"`
}

// Event is a refused version or a rollback: which version, on which commit, why, when.
type Event struct {
	Version string    `json:"version"`
	Commit  string    `json:"commit,omitempty"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
	// Retry: a refusal the next sync tries again (the release server did not answer or answered an error), not
	// one of the archive itself.
	Retry bool `json:"retry,omitempty"`
}

// RefusedOn is the refusal of version on commit, or nil.
func (r *Record) RefusedOn(commit, version string) *Event {
	if r == nil || r.Refused == nil || r.Refused.Commit != commit || r.Refused.Version != version {
		return nil
	}
	return r.Refused
}

// MaxStarts is how many starts an unconfirmed version gets: the next start rolls it back.
const MaxStarts = 3

// Dir is where the versions and the record live: <dir>/agent.
func Dir(agentDir string) string { return filepath.Join(agentDir, "agent") }

func recordPath(agentDir string) string { return filepath.Join(Dir(agentDir), "current") }

// Load reads the record; nil (and no error) when there is none: the agent never replaced itself on this dir.
func Load(agentDir string) (*Record, error) {
	b, err := os.ReadFile(recordPath(agentDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", recordPath(agentDir), err)
	}
	return &r, nil
}

// Save writes the record atomically (a crash leaves the old record or the new one, never a torn one).
func Save(agentDir string, r *Record) error {
	if err := os.MkdirAll(Dir(agentDir), 0o750); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(recordPath(agentDir), append(b, '\n'), 0o640)
}

// HasFailed reports whether version was rolled back on this dir.
func (r *Record) HasFailed(version string) bool {
	return r != nil && slices.Contains(r.Failed, version)
}

// RollBack makes Previous current again (confirmed), records Current as failed and why. It says false when
// there is nothing to go back to.
func (r *Record) RollBack(why string, now time.Time) bool {
	if r.Previous == nil {
		return false
	}
	bad := r.Current
	if !slices.Contains(r.Failed, bad.Version) {
		r.Failed = append(r.Failed, bad.Version)
	}
	r.Rollback = &Event{Version: bad.Version, Commit: r.Commit, Reason: why, At: now.UTC()}
	r.Current, r.Previous = *r.Previous, nil
	r.Confirmed, r.Deadline, r.Starts, r.HealthyBefore = true, time.Time{}, 0, false
	return true
}

// Prune removes the versions under <dir>/agent other than the current and the previous one: two are kept.
func (r *Record) Prune(agentDir string) {
	keep := map[string]bool{}
	for _, v := range []*Version{&r.Current, r.Previous} {
		if v != nil && v.Exe != "" {
			keep[filepath.Dir(v.Exe)] = true
		}
	}
	entries, _ := os.ReadDir(Dir(agentDir))
	for _, e := range entries {
		p := filepath.Join(Dir(agentDir), e.Name())
		if e.IsDir() && !keep[p] {
			_ = os.RemoveAll(p)
		}
	}
}

// PluginsDir is the plugins folder of the release this process runs when it is a version the agent replaced itself
// with (<dir>/agent/<version>/plugins), else "": a replaced agent runs its own release's plugins first.
func PluginsDir(agentDir string) string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	root, err := filepath.EvalSymlinks(Dir(agentDir))
	if err != nil {
		return ""
	}
	rel, err := filepath.Rel(root, filepath.Dir(exe))
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || strings.Contains(rel, "/") {
		return ""
	}
	return filepath.Join(filepath.Dir(exe), "plugins")
}
