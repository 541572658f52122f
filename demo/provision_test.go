package demo

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/examples"
	"github.com/herofleet/herofleet/fleet"
)

// The fleet the demo writes: the example fleet plus a host file per demo VM naming its age recipient, both VMs in
// the first wave, the tester's voice token issued and the engine's hashes of it; revoking the tester is one more
// issue.
func TestProvisionWritesTheDemoFleet(t *testing.T) {
	root := t.TempDir()
	dir, keys, err := provision(root, examples.Hero())
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(root, "fleet") {
		t.Errorf("fleet dir %s, want %s/fleet", dir, root)
	}
	f, err := fleet.LoadDir(dir)
	if err != nil {
		t.Fatalf("the demo's fleet does not load: %v", err)
	}
	tests := []struct{ host, role string }{{"demo-admin", "admin"}, {"demo-tester", "tester"}}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			h := f.Hosts[tt.host]
			if h == nil || h.Role != tt.role || h.Address != "127.0.0.1" || !strings.HasPrefix(h.Recipient, "age1") {
				t.Fatalf("host file %+v, want role %s at 127.0.0.1 with an age recipient", h, tt.role)
			}
			if keys[tt.host] != filepath.Join(root, tt.role+".key") {
				t.Errorf("identity file %q, want %s.key in the demo's root", keys[tt.host], tt.role)
			}
			id, err := os.ReadFile(keys[tt.host])
			if err != nil || !strings.Contains(string(id), "AGE-SECRET-KEY-") {
				t.Errorf("identity file: %v, %.40q", err, id)
			}
			if k, name := f.WaveOf(tt.host); k != 0 || name != "canary" {
				t.Errorf("%s in wave %d %q, want the first wave (the demo runs no Prometheus)", tt.host, k, name)
			}
		})
	}
	if k, _ := f.WaveOf("tester-07"); k != 0 {
		t.Error("the example's own canary left the first wave")
	}
	if _, err := os.Stat(filepath.Join(dir, "secrets", "demo-tester", "voice-token.age")); err != nil {
		t.Errorf("the tester's voice token was not issued: %v", err)
	}
	index := filepath.Join(dir, filepath.FromSlash(fleet.IssuedIndexPath("demo-admin", "voice-token")))
	before, err := os.ReadFile(index)
	if err != nil {
		t.Fatalf("the engine's hashes index: %v", err)
	}
	if !regexp.MustCompile(`(?m)^[0-9a-f]{64} demo-tester$`).Match(before) {
		t.Errorf("the index does not hold the tester's token hash:\n%s", before)
	}
	if err := issue(dir, "demo-tester"); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(index)
	if !regexp.MustCompile(`(?m)^revoked demo-tester$`).Match(after) || regexp.MustCompile(`(?m)^[0-9a-f]{64} demo-tester$`).Match(after) {
		t.Errorf("after the revocation the index is:\n%s\nwant the tester revoked and its hash gone", after)
	}
}

// WriteSecrets gives each secret a config-file hook reads a fresh value only its owner reads.
func TestWriteSecrets(t *testing.T) {
	f, err := fleet.LoadFS(examples.Hero())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "secrets")
	if err := WriteSecrets(f, dir); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(filepath.Join(dir, "voice-token"))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(dir, "voice-token"))
	dst, _ := os.Stat(dir)
	if !regexp.MustCompile(`^[0-9a-f]{32}\n$`).Match(first) || st.Mode().Perm() != 0o600 || dst.Mode().Perm() != 0o700 {
		t.Errorf("voice-token %q mode %v in a dir of mode %v, want 32 hex digits, 0600, 0700", first, st.Mode().Perm(), dst.Mode().Perm())
	}
	if err := WriteSecrets(f, dir); err != nil {
		t.Fatal(err)
	}
	if second, _ := os.ReadFile(filepath.Join(dir, "voice-token")); string(second) == string(first) {
		t.Error("a second run wrote the same value: not fresh")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files, want only voice-token", len(entries))
	}
}

// The builds' environment: the invoking user's Go cache, everything else inside the demo and offline.
func TestGoBuildEnv(t *testing.T) {
	tests := []struct {
		name, gocache, want string
	}{
		{"GOCACHE set", "/home/u/.cache/go-build-custom", "/home/u/.cache/go-build-custom"},
		{"GOCACHE unset: the user's cache dir", "", "go-build"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOCACHE", tt.gocache)
			env := GoBuildEnv("/tmp/hfdemo1")
			if !strings.HasSuffix(env["GOCACHE"], tt.want) {
				t.Errorf("GOCACHE %q, want it to end in %q", env["GOCACHE"], tt.want)
			}
			want := map[string]string{"GOPATH": "/tmp/hfdemo1/gopath", "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("%s=%q, want %q", k, env[k], v)
				}
			}
		})
	}
	p := BuildPath()
	if !strings.HasSuffix(p, agent.DefaultPath) || !strings.Contains(p, "go/bin:") && p != agent.DefaultPath {
		t.Errorf("build PATH %q, want the go command's folder before %s", p, agent.DefaultPath)
	}
}

// The agent configuration the demo writes reads back as a config file would, with every field the demo set.
func TestMarshalConfigRoundTrip(t *testing.T) {
	cfg := &agent.Config{
		Fleet: agent.FleetRepo{Repo: "http://127.0.0.1:9/ops/hero-fleet.git", Ref: "main"}, Host: "demo-tester", Role: "tester",
		Address: "127.0.0.1", Dir: "/tmp/hfdemo1/tester", TokenFile: "/tmp/hfdemo1/token", IdentityFile: "/tmp/hfdemo1/tester.key",
		Rewrite: map[string]string{Forge: "http://127.0.0.1:9/", "http://[4a5::7]:": "http://127.0.0.1:"}, Path: "/usr/bin",
		BuildEnv: map[string]string{"GOPROXY": "off"}, Schedule: "@every 10s",
	}
	data, err := marshalConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := agent.ParseConfig(data)
	if err != nil {
		t.Fatalf("ParseConfig: %v\n%s", err, data)
	}
	if back.Host != cfg.Host || back.Role != cfg.Role || back.Fleet != cfg.Fleet || back.Schedule != cfg.Schedule ||
		back.Rewrite[Forge] != "http://127.0.0.1:9/" || back.Rewrite["http://[4a5::7]:"] != "http://127.0.0.1:" ||
		back.IdentityFile != cfg.IdentityFile || back.BuildEnv["GOPROXY"] != "off" || back.Path != "/usr/bin" {
		t.Errorf("read back %+v\nfrom\n%s", back, data)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil || raw["host"] != "demo-tester" {
		t.Errorf("not a YAML config file: %v\n%s", err, data)
	}
}
