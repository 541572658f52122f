package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/plugins"
)

const secret = "tester-07-voice-token-4f9a"

const voiceTemplate = `[engine]
url   = {{ use "voice" | quote }}
token = {{ .Secret | quote }}
[widget]
host  = {{ .Host | quote }}
name  = {{ .HostName }}/{{ .App }}
`

func voiceCall(t *testing.T, with map[string]any) plugins.Call {
	t.Helper()
	root := t.TempDir()
	data, secrets := filepath.Join(root, "data", "voice"), filepath.Join(root, "secrets")
	must(t, os.MkdirAll(data, 0o755))
	must(t, os.MkdirAll(secrets, 0o700))
	must(t, os.WriteFile(filepath.Join(secrets, "voice-token"), []byte(secret+"\n"), 0o600))
	return plugins.Call{
		Plugin: "config-file", Event: "pre-start", App: "voice_widget", Host: "tester-07", Address: "[4a5::7]",
		DataDir: data, Secrets: secrets, Uses: map[string]string{"voice": "http://[4a5::1]:9300/"}, With: with,
	}
}

func TestRenderWritesFile0600(t *testing.T) {
	call := voiceCall(t, nil)
	path := filepath.Join(call.DataDir, "conf", "voice.toml")
	call.With = map[string]any{"path": path, "template": voiceTemplate, "secret": "voice-token", "env": "HERO_VOICE_CONFIG"}

	res, err := render(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	must(t, err)
	want := `[engine]
url   = "http://[4a5::1]:9300/"
token = "` + secret + `"
[widget]
host  = "[4a5::7]"
name  = tester-07/voice_widget
`
	if string(got) != want {
		t.Errorf("file =\n%s\nwant\n%s", got, want)
	}
	fi, err := os.Stat(path)
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	if res.Env["HERO_VOICE_CONFIG"] != path {
		t.Errorf("env = %v", res.Env)
	}
	for _, m := range res.Messages {
		if strings.Contains(m, secret) {
			t.Fatalf("a message holds the secret: %q", m)
		}
	}

	// A second run with the same inputs leaves the file alone; a changed input rewrites it.
	res, err = render(context.Background(), call)
	if err != nil || !strings.Contains(res.Messages[0], "up to date") {
		t.Fatalf("second run: %v %v", res, err)
	}
	call.Uses["voice"] = "http://[4a5::2]:9300/"
	if _, err := render(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !strings.Contains(string(got), "4a5::2") {
		t.Errorf("file not rewritten: %s", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files beside the config, want none (temp files cleaned)", len(entries)-1)
	}
}

func TestRenderReplacesSymlinkInsteadOfFollowing(t *testing.T) {
	call := voiceCall(t, nil)
	victim := filepath.Join(t.TempDir(), "victim")
	must(t, os.WriteFile(victim, []byte("keep"), 0o644))
	inside := filepath.Join(call.DataDir, "voice.toml")
	// a symlink that stays inside ${data} passes the check; writing must still not go through it
	must(t, os.WriteFile(filepath.Join(call.DataDir, "other"), []byte("other"), 0o644))
	must(t, os.Symlink(filepath.Join(call.DataDir, "other"), inside))
	call.With = map[string]any{"path": inside, "template": "x = 1\n"}
	if _, err := render(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(inside); fi.Mode()&os.ModeSymlink != 0 {
		t.Error("the symlink was followed, not replaced")
	}
	if b, _ := os.ReadFile(filepath.Join(call.DataDir, "other")); string(b) != "other" {
		t.Errorf("write went through the symlink: %q", b)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("victim changed: %q", b)
	}
}

func TestRenderRefusals(t *testing.T) {
	tests := []struct {
		name string
		with func(data string) map[string]any
		want string
	}{
		{"outside data", func(d string) map[string]any {
			return map[string]any{"path": filepath.Join(d, "..", "books", "x.toml"), "template": "x"}
		}, "outside the app's data directory"},
		{"symlink out", func(d string) map[string]any {
			out := filepath.Join(filepath.Dir(d), "elsewhere")
			must(t, os.MkdirAll(out, 0o755))
			must(t, os.Symlink(out, filepath.Join(d, "conf")))
			return map[string]any{"path": filepath.Join(d, "conf", "x.toml"), "template": "x"}
		}, "through a symlink"},
		{"no path", func(string) map[string]any { return map[string]any{"template": "x"} }, "with.path is required"},
		{"no template", func(d string) map[string]any { return map[string]any{"path": d + "/x"} }, "with.template is required"},
		{"unknown use", func(d string) map[string]any {
			return map[string]any{"path": d + "/x", "template": `{{ use "embedder" }}`}
		}, `app "embedder" is not in this app's uses`},
		{"missing key", func(d string) map[string]any { return map[string]any{"path": d + "/x", "template": `{{ .Nope }}`} }, "Nope"},
		{"bad template", func(d string) map[string]any { return map[string]any{"path": d + "/x", "template": `{{ .Secret `} }, "with.template"},
		{"missing secret", func(d string) map[string]any {
			return map[string]any{"path": d + "/x", "template": "x", "secret": "absent"}
		}, "secret absent"},
		{"secret escape", func(d string) map[string]any {
			return map[string]any{"path": d + "/x", "template": "x", "secret": "../secrets/voice-token"}
		}, "does not match"},
		{"bad env", func(d string) map[string]any { return map[string]any{"path": d + "/x", "template": "x", "env": "A-B"} }, "not an environment variable name"},
		{"unknown key", func(d string) map[string]any {
			return map[string]any{"path": d + "/x", "template": "x", "mode": "0644"}
		}, `unknown field "mode"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := voiceCall(t, nil)
			call.With = tt.with(call.DataDir)
			_, err := render(context.Background(), call)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error holds the secret: %v", err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
