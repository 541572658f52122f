package fleet

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// commitFiles commits files (path -> content; "" deletes) to an in-memory repo.
func commitFiles(t *testing.T, repo *git.Repository, files map[string]string) plumbing.Hash {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if content == "" {
			if _, err := wt.Remove(name); err != nil {
				t.Fatal(err)
			}
			continue
		}
		f, err := wt.Filesystem.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(content))
		f.Close()
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	h, err := wt.Commit("change", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example", When: time.Unix(1e9, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestLoadCommit(t *testing.T) {
	repo, err := git.Init(memory.NewStorage(), memfs.New())
	if err != nil {
		t.Fatal(err)
	}
	good := commitFiles(t, repo, map[string]string{
		"fleet.yaml":        "name: t\n",
		"apps/web.yaml":     "source: {repo: https://f.example/w.git}\nbinaries: [{name: web, kind: web, path: w}]\n",
		"roles/tester.yaml": "preinstalled: [web]\n",
		"runbook/a.md":      "# A\n",
		"README.md":         "not part of the fleet\n",
	})
	f, err := LoadCommit(repo, good)
	if err != nil {
		t.Fatal(err)
	}
	if f.Commit != good.String() || f.Apps["web"] == nil || len(f.Runbook) != 1 {
		t.Errorf("loaded %+v", f)
	}
	bad := commitFiles(t, repo, map[string]string{"roles/tester.yaml": "preinstalled: [wbe]\n"})
	_, err = LoadCommit(repo, bad)
	var fe Errors
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), `roles/tester.yaml:1:16: preinstalled: unknown app "wbe"`) {
		t.Errorf("bad commit: %v", err)
	}
	if _, err := LoadCommit(repo, plumbing.NewHash(strings.Repeat("ab", 20))); err == nil || errors.As(err, &fe) {
		t.Errorf("a missing commit is an error of its own, not a bad fleet: %v", err)
	}
}
