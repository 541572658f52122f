package fleet

import (
	"sync"
	"time"
)

// Fleet is one fleet repo, as loaded from a directory or a git commit.
type Fleet struct {
	Meta    Meta             // fleet.yaml
	Apps    map[string]*App  // apps/<app>.yaml
	Roles   map[string]*Role // roles/<role>.yaml
	Hosts   map[string]*Host // hosts/<host>.yaml
	Runbook []RunbookPage    // runbook/*.md, sorted by file name
	Lock    *Lock            // fleet.lock; nil when the repo has none (branches are followed)
	Secrets []SecretFile     // secrets/<host>/<name>.age, sorted by file name (ciphertext only)
	// Commit is the git commit the fleet was loaded from; empty for a directory.
	Commit string

	// closures memoizes needs closures by their roots: thousands of hosts share a few roles and adds.
	mu       sync.Mutex
	closures map[string]closureResult
}

// Meta is fleet.yaml.
type Meta struct {
	Name        string            `yaml:"name" json:"name" jsonschema:"required"`
	Title       string            `yaml:"title" json:"title,omitempty"`
	Description string            `yaml:"description" json:"description,omitempty"`
	Sync        Sync              `yaml:"sync" json:"sync,omitempty"`
	Maintenance []Window          `yaml:"maintenance" json:"maintenance,omitempty"`
	Plugins     map[string]string `yaml:"plugins" json:"plugins,omitempty" jsonschema:"description=plugin name -> sha256 of its executable (pins)"`
	Secrets     SecretsMeta       `yaml:"secrets" json:"secrets,omitempty"`
	Rollout     Rollout           `yaml:"rollout" json:"rollout,omitempty"`
	Drift       DriftMode         `yaml:"drift" json:"drift,omitempty" jsonschema:"enum=heal,enum=report,description=what an agent does when an installed app no longer matches what it installed: heal (default) puts it back and restarts the binaries concerned; report only says it"`
	Agent       *AgentRelease     `yaml:"agent" json:"agent,omitempty" jsonschema:"description=the herofleet version every agent of the fleet runs: an agent replaces itself when the commit it applies names another one"`

	File string `yaml:"-" json:"-"`
	pos  positions
}

// AgentRelease is fleet.yaml's agent: the herofleet release every agent runs. An agent that applies a commit naming
// another version than its own downloads the archive of its platform, checks its sha256, runs its selftest and
// execs it in place; the new agent must finish a healthy converge within Confirm, or the previous one comes back.
type AgentRelease struct {
	Version   string              `yaml:"version" json:"version" jsonschema:"required,description=the release's version as herofleet version prints it (v0.5.0)"`
	Artifacts map[string]Artifact `yaml:"artifacts" json:"artifacts" jsonschema:"required,description=the release archive (make release) per platform: linux/amd64 and linux/arm64"`
	Confirm   Duration            `yaml:"confirm" json:"confirm,omitempty" jsonschema:"description=how long a new agent has to finish a healthy converge before the previous one comes back (default 2m)"`
}

// ConfirmOrDefault is the confirm window: confirm, or DefaultAgentConfirm.
func (r *AgentRelease) ConfirmOrDefault() time.Duration {
	if r == nil || r.Confirm.Duration <= 0 {
		return DefaultAgentConfirm
	}
	return r.Confirm.Duration
}

// AgentPlatforms are the platforms an agent release names artifacts for.
var AgentPlatforms = []string{"linux/amd64", "linux/arm64"}

// DriftMode is what an agent does when what an app runs on its host is no longer what it installed (fleet.yaml
// drift:). The empty value is heal.
type DriftMode string

// Drift modes.
const (
	DriftHeal   DriftMode = "heal"   // put the installed build back, restart the binaries concerned
	DriftReport DriftMode = "report" // only say it
)

// Sync says how often agents poll the fleet repo.
type Sync struct {
	Schedule string   `yaml:"schedule" json:"schedule,omitempty" jsonschema:"description=robfig/cron spec or descriptor (default @every 1m)"`
	Jitter   Duration `yaml:"jitter" json:"jitter,omitempty"`
}

// Window is a maintenance window: disruptive changes wait for one when the fleet defines any.
type Window struct {
	Schedule string   `yaml:"schedule" json:"schedule" jsonschema:"description=cron spec of the window's start (CRON_TZ= prefix for a time zone)"`
	Duration Duration `yaml:"duration" json:"duration"`
}

// App is one catalog entry: a bundle of binaries installed, started and shown together.
type App struct {
	Name        string    `yaml:"name" json:"name,omitempty"`
	Title       string    `yaml:"title" json:"title,omitempty"`
	Description string    `yaml:"description" json:"description,omitempty"`
	Source      Source    `yaml:"source" json:"source"`
	Build       *Build    `yaml:"build" json:"build,omitempty"`
	Artifact    *Artifact `yaml:"artifact" json:"artifact,omitempty"`
	Binaries    []Binary  `yaml:"binaries" json:"binaries" jsonschema:"required"`
	Needs       []string  `yaml:"needs" json:"needs,omitempty"`
	Uses        []string  `yaml:"uses" json:"uses,omitempty"`
	Hooks       []Hook    `yaml:"hooks" json:"hooks,omitempty"`

	File string `yaml:"-" json:"-"`
	pos  positions
}

// Source is where an app's code comes from.
type Source struct {
	Repo string `yaml:"repo" json:"repo"`
	Ref  string `yaml:"ref" json:"ref,omitempty" jsonschema:"description=branch, tag or 40-hex commit (default main)"`
}

// RefOrDefault is the ref to use: source.ref, or DefaultRef when the app gives none.
func (s Source) RefOrDefault() string {
	if s.Ref == "" {
		return DefaultRef
	}
	return s.Ref
}

// Build is the argv that builds an app inside its source tree.
type Build struct {
	Command []string `yaml:"command" json:"command"`
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
}

// Artifact is an app built once for the whole fleet.
type Artifact struct {
	URL    string `yaml:"url" json:"url"`
	SHA256 string `yaml:"sha256" json:"sha256"`
}

// Binary is one supervised process of an app.
type Binary struct {
	Name   string            `yaml:"name" json:"name" jsonschema:"required"`
	Kind   string            `yaml:"kind" json:"kind" jsonschema:"required,enum=server,enum=web,enum=admin"`
	Path   string            `yaml:"path" json:"path" jsonschema:"required"`
	Args   []string          `yaml:"args" json:"args,omitempty"`
	Env    map[string]string `yaml:"env" json:"env,omitempty"`
	Listen string            `yaml:"listen" json:"listen,omitempty" jsonschema:"description=tcp://HOST:PORT or unix://PATH"`
	Health string            `yaml:"health" json:"health,omitempty" jsonschema:"description=HTTP path probed on listen"`
	URL    string            `yaml:"url" json:"url,omitempty"`
}

// Hook runs a plugin around an app's install.
type Hook struct {
	Plugin  string         `yaml:"plugin" json:"plugin" jsonschema:"required"`
	On      string         `yaml:"on" json:"on" jsonschema:"required,enum=pre-build,enum=post-build,enum=pre-start,enum=post-start,enum=pre-remove"`
	With    map[string]any `yaml:"with" json:"with,omitempty"`
	Timeout Duration       `yaml:"timeout" json:"timeout,omitempty"`
}

// Role is a kind of VM: what it runs from the start and what it may install on click.
type Role struct {
	Name         string   `yaml:"name" json:"name,omitempty"`
	Title        string   `yaml:"title" json:"title,omitempty"`
	Description  string   `yaml:"description" json:"description,omitempty"`
	Preinstalled []string `yaml:"preinstalled" json:"preinstalled,omitempty"`
	Catalog      []string `yaml:"catalog" json:"catalog,omitempty"`
	Links        []Link   `yaml:"links" json:"links,omitempty" jsonschema:"description=links the cockpit of every host of the role shows, e.g. the fleet view on the admin VM"`

	File string `yaml:"-" json:"-"`
	pos  positions
}

// Link is a page a role's cockpit links to; its url may use ${host}, the host's address.
type Link struct {
	Title string `yaml:"title" json:"title"`
	URL   string `yaml:"url" json:"url"`
}

// Host is an optional per-VM file.
type Host struct {
	Name    string            `yaml:"name" json:"name,omitempty"`
	Role    string            `yaml:"role" json:"role" jsonschema:"required"`
	Address string            `yaml:"address" json:"address,omitempty"`
	Add     []string          `yaml:"add" json:"add,omitempty"`
	Pin     map[string]string `yaml:"pin" json:"pin,omitempty"`
	Agent   string            `yaml:"agent" json:"agent,omitempty" jsonschema:"description=where fleet tools reach the agent's metrics_listen: http://HOST:PORT (default http://<address>:7072)"`
	// Recipient is the host's age X25519 recipient (age1…): its secrets are encrypted to it.
	Recipient string `yaml:"recipient" json:"recipient,omitempty" jsonschema:"description=the host's age recipient (age1…)"`

	File string `yaml:"-" json:"-"`
	pos  positions
}

// RunbookPage is a hand-written page of the fleet repo's runbook/ folder.
type RunbookPage struct {
	File    string // e.g. runbook/oncall.md
	Content []byte
}

// Binary kinds that are supervised. cli binaries are never supervised, so a fleet does not list them.
var Kinds = []string{"server", "web", "admin"}

// Hook events, in the order they happen.
var Events = []string{"pre-build", "post-build", "pre-start", "post-start", "pre-remove"}

// Duration is a Go duration string in YAML ("10s", "1h30m").
type Duration struct{ time.Duration }

// MarshalText writes the duration as Go writes it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// Defaults the agent falls back to.
const (
	DefaultSchedule     = "@every 1m"
	DefaultRef          = "main"
	DefaultBuildTimeout = 30 * time.Minute
	DefaultHookTimeout  = 5 * time.Minute
	DefaultAgentConfirm = 2 * time.Minute
)
