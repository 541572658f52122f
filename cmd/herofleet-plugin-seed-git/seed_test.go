package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/herofleet/herofleet/plugins"
)

// library makes a git repository with two commits on main, a tag v1 on the first and a branch next.
// It returns its file:// URL and the two commits.
func library(t *testing.T, name string) (url string, first, second plumbing.Hash) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	must(t, err)
	wt, err := repo.Worktree()
	must(t, err)
	commit := func(content string) plumbing.Hash {
		must(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte(content), 0o644))
		_, err := wt.Add("README.md")
		must(t, err)
		h, err := wt.Commit(content, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.org", When: time.Unix(1700000000, 0)}})
		must(t, err)
		return h
	}
	first = commit("# " + name + " v1\n")
	_, err = repo.CreateTag("v1", first, nil)
	must(t, err)
	second = commit("# " + name + " v2\n")
	must(t, repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("next"), first)))
	return "file://" + dir, first, second
}

func readme(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "README.md"))
	must(t, err)
	return string(b)
}

func dataCall(t *testing.T, with map[string]any) plugins.Call {
	data := filepath.Join(t.TempDir(), "data", "books")
	must(t, os.MkdirAll(data, 0o755))
	return plugins.Call{Plugin: "seed-git", Event: "pre-start", App: "books", DataDir: data, With: with}
}

func TestSeedClonesEachRefKindOnce(t *testing.T) {
	url, first, _ := library(t, "hero-docs")
	call := dataCall(t, map[string]any{"repos": []any{
		map[string]any{"name": "head", "url": url},
		map[string]any{"name": "branch", "url": url, "ref": "next"},
		map[string]any{"name": "tag", "url": url, "ref": "v1"},
		map[string]any{"name": "commit", "url": url, "ref": first.String()},
	}})
	call.With["into"] = filepath.Join(call.DataDir, "libraries")

	res, err := seed(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	libs := filepath.Join(call.DataDir, "libraries")
	for name, want := range map[string]string{"head": "v2", "branch": "v1", "tag": "v1", "commit": "v1"} {
		if got := readme(t, filepath.Join(libs, name)); !strings.Contains(got, want) {
			t.Errorf("%s: README = %q, want %s", name, got, want)
		}
	}
	if len(res.Messages) != 4 || !strings.Contains(res.Messages[1], "branch: cloned") {
		t.Errorf("messages = %q", res.Messages)
	}

	// Idempotent: a second run leaves every library alone, even one the app has since changed.
	must(t, os.WriteFile(filepath.Join(libs, "head", "README.md"), []byte("edited by the app"), 0o644))
	res, err = seed(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Messages {
		if !strings.Contains(m, "left alone") {
			t.Errorf("second run: %q", m)
		}
	}
	if got := readme(t, filepath.Join(libs, "head")); got != "edited by the app" {
		t.Errorf("second run changed a seeded library: %q", got)
	}
	entries, _ := os.ReadDir(libs)
	if len(entries) != 4 {
		t.Errorf("libraries dir holds %d entries, want 4 (no leftovers)", len(entries))
	}
}

func TestSeedRefusals(t *testing.T) {
	url, _, _ := library(t, "lib")
	tests := []struct {
		name  string
		into  func(data string) string
		repos []any
		setup func(t *testing.T, data string)
		want  string
	}{
		{name: "into outside data", into: func(d string) string { return filepath.Join(d, "..", "memory") },
			want: "outside the app's data directory"},
		{name: "into through symlink", into: func(d string) string { return filepath.Join(d, "libs") },
			setup: func(t *testing.T, d string) { must(t, os.Symlink(t.TempDir(), filepath.Join(d, "libs"))) },
			want:  "through a symlink"},
		{name: "target is a symlink out", into: func(d string) string { return filepath.Join(d, "libs") },
			setup: func(t *testing.T, d string) {
				must(t, os.MkdirAll(filepath.Join(d, "libs"), 0o755))
				must(t, os.Symlink(t.TempDir(), filepath.Join(d, "libs", "lib")))
			},
			want: "through a symlink"},
		{name: "bad repo name", repos: []any{map[string]any{"name": "../x", "url": url}}, want: "does not match"},
		{name: "duplicate name", repos: []any{map[string]any{"name": "a", "url": url}, map[string]any{"name": "a", "url": url}}, want: "appears twice"},
		{name: "missing url", repos: []any{map[string]any{"name": "a"}}, want: "url is required"},
		{name: "unknown key", repos: []any{map[string]any{"name": "a", "url": url, "branch": "main"}}, want: `unknown field "branch"`},
		{name: "unknown ref", repos: []any{map[string]any{"name": "a", "url": url, "ref": "nope"}}, want: `ref "nope" is neither a branch nor a tag`},
		{name: "unreachable", repos: []any{map[string]any{"name": "a", "url": "file:///nonexistent/repo.git"}}, want: "clone file:///nonexistent/repo.git"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := dataCall(t, nil)
			into := filepath.Join(call.DataDir, "libraries")
			if tt.into != nil {
				into = tt.into(call.DataDir)
			}
			repos := tt.repos
			if repos == nil {
				repos = []any{map[string]any{"name": "lib", "url": url}}
			}
			if tt.setup != nil {
				tt.setup(t, call.DataDir)
			}
			call.With = map[string]any{"into": into, "repos": repos}
			_, err := seed(context.Background(), call)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	if got := redact("https://user:tok@forge.example/x.git"); strings.Contains(got, "tok") {
		t.Errorf("redact = %q", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A clone cut short by a kill leaves its temporary directory; the next run removes it and clones again.
func TestSeedClearsAnInterruptedClone(t *testing.T) {
	url, _, _ := library(t, "hero-docs")
	call := dataCall(t, map[string]any{"repos": []any{map[string]any{"name": "docs", "url": url}}})
	libs := filepath.Join(call.DataDir, "libraries")
	call.With["into"] = libs
	half := filepath.Join(libs, ".docs.seeding-1449987193")
	must(t, os.MkdirAll(filepath.Join(half, ".git"), 0o755))
	other := filepath.Join(libs, ".other.seeding-1") // another library's: not this run's to judge
	must(t, os.MkdirAll(other, 0o755))
	if _, err := seed(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(half); !os.IsNotExist(err) {
		t.Fatalf("the interrupted clone's directory is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("another library's directory went: %v", err)
	}
	if got := readme(t, filepath.Join(libs, "docs")); !strings.Contains(got, "v2") {
		t.Fatalf("README = %q", got)
	}
}
