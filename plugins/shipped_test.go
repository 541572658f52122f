package plugins_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/herofleet/herofleet/plugins"
)

// gitRepo makes a one-commit repository and returns its file:// URL.
func gitRepo(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	if err := os.WriteFile(filepath.Join(dir, "index.md"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("index.md"); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "t", Email: "t@example.org", When: time.Unix(1700000000, 0)}
	if _, err := wt.Commit("seed", &git.CommitOptions{Author: sig}); err != nil {
		t.Fatal(err)
	}
	return "file://" + dir
}

func TestSeedGitPlugin(t *testing.T) {
	r, _ := newRunner(t)
	data := filepath.Join(t.TempDir(), "data", "books")
	var repos []any
	for _, name := range []string{"hero-docs", "mycelium-docs", "tfgrid-manual", "hero-recipes"} {
		repos = append(repos, map[string]any{"name": name, "url": gitRepo(t, "# "+name)})
	}
	c := plugins.Call{Plugin: "seed-git", Event: "post-start", App: "books", DataDir: data,
		With: map[string]any{"into": filepath.Join(data, "libraries"), "repos": repos}}

	res, err := r.Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 4 {
		t.Errorf("messages = %q", res.Messages)
	}
	for _, name := range []string{"hero-docs", "mycelium-docs", "tfgrid-manual", "hero-recipes"} {
		if b, err := os.ReadFile(filepath.Join(data, "libraries", name, "index.md")); err != nil || string(b) != "# "+name {
			t.Errorf("%s: %q, %v", name, b, err)
		}
	}

	c.With["into"] = filepath.Join(data, "..", "memory")
	_, err = r.Run(context.Background(), c)
	if !errors.Is(err, plugins.ErrHookFailed) || !strings.Contains(err.Error(), "outside the app's data directory") {
		t.Fatalf("err = %v, want a refused target", err)
	}
	assertNoChildren(t)
}

func TestConfigFilePlugin(t *testing.T) {
	const token = "tester-07-token-9b1e"
	r, logs := newRunner(t)
	root := t.TempDir()
	data, secrets := filepath.Join(root, "data", "voice_widget"), filepath.Join(root, "secrets")
	if err := os.MkdirAll(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secrets, "voice-token"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := plugins.Call{Plugin: "config-file", Event: "pre-start", App: "voice_widget", Host: "tester-07", Address: "[4a5::7]",
		DataDir: data, Secrets: secrets, Uses: map[string]string{"voice": "http://[4a5::1]:9300/"},
		With: map[string]any{
			"path": filepath.Join(data, "voice.toml"), "secret": "voice-token", "env": "HERO_VOICE_CONFIG",
			"template": "engine = {{ use \"voice\" | quote }}\ntoken = {{ .Secret | quote }}\n",
		}}
	res, err := r.Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(data, "voice.toml")
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "engine = \"http://[4a5::1]:9300/\"\ntoken = \""+token+"\"\n" {
		t.Errorf("voice.toml = %q, %v", b, err)
	}
	if fi, _ := os.Stat(path); fi == nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("voice.toml mode = %v", fi)
	}
	if res.Env["HERO_VOICE_CONFIG"] != path {
		t.Errorf("env = %v", res.Env)
	}
	if strings.Contains(logs.String(), token) || strings.Contains(strings.Join(res.Messages, "\n"), token) {
		t.Fatal("the secret reached the agent's log or the messages")
	}
	assertNoChildren(t)
}
