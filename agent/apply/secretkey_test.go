package apply

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/herofleet/herofleet/fleet"
)

// Which secrets an app reads: ${secrets}/NAME in its hooks' with or its binaries' args and env, a hook's
// "secret: NAME", or every one for ${secrets} alone; nothing else.
func TestSecretsRead(t *testing.T) {
	tests := []struct {
		name  string
		app   fleet.App
		names []string
		all   bool
	}{
		{name: "none", app: fleet.App{Hooks: []fleet.Hook{{Plugin: "db", With: map[string]any{"path": "${data}/x", "n": 3}}},
			Binaries: []fleet.Binary{{Args: []string{"--listen", "unix://${sockets}/x.sock"}}}}},
		{name: "a file in a nested with", app: fleet.App{Hooks: []fleet.Hook{{With: map[string]any{"files": []any{map[string]any{"from": "${secrets}/db-pass"}}}}}},
			names: []string{"db-pass"}},
		{name: "config-file's secret key", app: fleet.App{Hooks: []fleet.Hook{{Plugin: "config-file", With: map[string]any{"secret": "voice-token", "path": "${data}/v.toml"}}}},
			names: []string{"voice-token"}},
		{name: "a binary's args and env", app: fleet.App{Binaries: []fleet.Binary{{Args: []string{"--tokens", "${secrets}/voice-token-hashes"},
			Env: map[string]string{"KEY": "${secrets}/api.key"}}}}, names: []string{"api.key", "voice-token-hashes"}},
		{name: "the dir itself", app: fleet.App{Hooks: []fleet.Hook{{With: map[string]any{"dir": "${secrets}"}}}}, all: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, all := secretsRead(&tt.app)
			if !slices.Equal(names, tt.names) || all != tt.all {
				t.Errorf("secretsRead = %v, %v; want %v, %v", names, all, tt.names, tt.all)
			}
		})
	}
}

// A changed value of a secret an app reads changes its key; a secret it does not read does not; an app that reads
// none keeps the key it had before secrets were part of it.
func TestKeyCoversTheSecretsRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, v string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("token", "tok-1")
	write("other", "o-1")
	r := newTestRunner(t, newFakeHost(), nil)
	r.cfg.SecretsDir = dir
	reads := &fleet.App{Hooks: []fleet.Hook{{Plugin: "config-file", With: map[string]any{"secret": "token"}}}}
	all := &fleet.App{Hooks: []fleet.Hook{{Plugin: "x", With: map[string]any{"dir": "${secrets}"}}}}
	none := &fleet.App{Hooks: []fleet.Hook{{Plugin: "db"}}}

	if k := r.withSecrets("k", none); k != "k" {
		t.Fatalf("an app that reads no secret: key %s, want it unchanged", k)
	}
	k1, a1 := r.withSecrets("k", reads), r.withSecrets("k", all)
	if k1 == "k" || a1 == "k" || k1 == a1 {
		t.Fatalf("keys of apps reading secrets: %s %s", k1, a1)
	}
	write("other", "o-2")
	if k := r.withSecrets("k", reads); k != k1 {
		t.Errorf("a secret the app does not read changed its key")
	}
	if a := r.withSecrets("k", all); a == a1 {
		t.Errorf("an app reading the whole dir kept its key when a value changed")
	}
	write("token", "tok-2")
	if k := r.withSecrets("k", reads); k == k1 {
		t.Errorf("a rotated secret kept the app's key")
	}
	if err := os.Remove(filepath.Join(dir, "token")); err != nil {
		t.Fatal(err)
	}
	if k := r.withSecrets("k", reads); k == k1 || k == "k" {
		t.Errorf("a revoked secret: key %s", k)
	}
}
