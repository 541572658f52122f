package demo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The demo's VMs join the first rollout wave when it names hosts, so that they are never held for a Prometheus the
// demo does not run; any other fleet.yaml is left as it is.
func TestJoinFirstWave(t *testing.T) {
	tests := []struct {
		name      string
		fleetYAML string
		changed   bool
		first     []string // the first wave's hosts after
	}{
		{name: "a canary by name gets the demo's VMs",
			fleetYAML: "name: hero\nrollout:\n  waves:\n    - {name: canary, hosts: [tester-07]}\n    - {name: rest}\n",
			changed:   true, first: []string{"tester-07", "demo-admin", "demo-tester"}},
		{name: "a block list too",
			fleetYAML: "name: hero\nrollout:\n  waves:\n    - name: canary\n      hosts:\n        - a\n        - b\n    - name: rest\n",
			changed:   true, first: []string{"a", "b", "demo-admin", "demo-tester"}},
		{name: "no rollout", fleetYAML: "name: hero\nsync: {schedule: \"@every 1m\"}\n"},
		{name: "one wave: everyone applies at once", fleetYAML: "name: hero\nrollout:\n  waves:\n    - {name: all}\n"},
		{name: "a first wave by percent", fleetYAML: "name: hero\nrollout:\n  waves:\n    - {name: canary, percent: 10}\n    - {name: rest}\n"},
		{name: "waves that are not a list", fleetYAML: "name: hero\nrollout:\n  waves: none\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "fleet.yaml")
			if err := os.WriteFile(path, []byte(tt.fleetYAML), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := joinFirstWave(dir, "demo-admin", "demo-tester"); err != nil {
				t.Fatal(err)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.changed {
				if string(after) != tt.fleetYAML {
					t.Errorf("fleet.yaml rewritten:\n%s\nwant it untouched:\n%s", after, tt.fleetYAML)
				}
				return
			}
			var doc struct {
				Name    string
				Rollout struct {
					Waves []struct {
						Name  string
						Hosts []string
					}
				}
			}
			if err := yaml.Unmarshal(after, &doc); err != nil {
				t.Fatal(err)
			}
			w := doc.Rollout.Waves
			if doc.Name != "hero" || len(w) != 2 || strings.Join(w[0].Hosts, ",") != strings.Join(tt.first, ",") || len(w[1].Hosts) != 0 {
				t.Errorf("after: %+v, want the first wave %v and the rest untouched\n%s", doc, tt.first, after)
			}
		})
	}
}

// A fleet.yaml the demo cannot read is an error, not a silent pass.
func TestJoinFirstWaveErrors(t *testing.T) {
	tests := []struct {
		name, fleetYAML, want string
	}{
		{"no fleet.yaml", "", "no such file"},
		{"not YAML", "name: [hero\n", "fleet.yaml: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.fleetYAML != "" {
				if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(tt.fleetYAML), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := joinFirstWave(dir, "demo-admin"); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one with %q", err, tt.want)
			}
		})
	}
}
