package apply

import (
	"time"

	"github.com/herofleet/herofleet/fleet"
)

// Installed is one app's running revision, recorded with everything needed to start it again without the fleet.
// The agent's state.json stores it as is.
type Installed struct {
	App         string       `json:"app"`
	Rev         string       `json:"rev"`
	Key         string       `json:"key"`
	BuildDir    string       `json:"build_dir"`
	InstalledAt time.Time    `json:"installed_at"`
	Binaries    []Proc       `json:"binaries"`
	Hooks       []fleet.Hook `json:"hooks,omitempty"` // pre-remove hooks run from here when the app leaves
	// Manifest is what the app runs, as installed: the drift check's truth. Empty in a state written before it
	// existed (that app is not checked until its next install).
	Manifest       []ManifestEntry `json:"manifest,omitempty"`
	ManifestCapped bool            `json:"manifest_capped,omitempty"` // more files than MaxManifestFiles: the first ones are checked
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
