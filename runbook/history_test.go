package runbook

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/tools/txtar"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/sitegen"
)

const oldApp = `title: Old
description: An app that was dropped.
source: {repo: https://forge.example/old.git}
build: {command: [make]}
binaries:
  - name: old_web
    kind: web
    path: bin/old_web
    listen: tcp://${host}:9500
`

// fleetRepo is a git work tree holding a fleet, committed to with fixed times so hashes are stable.
type fleetRepo struct {
	t    *testing.T
	dir  string
	repo *git.Repository
	when time.Time
}

func newFleetRepo(t *testing.T) *fleetRepo {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := txtar.ParseFile(filepath.Join("testdata", "small.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	r := &fleetRepo{t: t, dir: dir, repo: repo, when: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	for _, f := range ar.Files {
		r.write(f.Name, string(f.Data))
	}
	return r
}

func (r *fleetRepo) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *fleetRepo) remove(name string) {
	r.t.Helper()
	if err := os.Remove(filepath.Join(r.dir, filepath.FromSlash(name))); err != nil {
		r.t.Fatal(err)
	}
}

func (r *fleetRepo) commit(msg string) plumbing.Hash {
	r.t.Helper()
	wt, err := r.repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		r.t.Fatal(err)
	}
	r.when = r.when.Add(time.Hour)
	sig := &object.Signature{Name: "Ops", Email: "ops@example.invalid", When: r.when}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

// site loads the fleet and its history at HEAD and assembles the runbook.
func (r *fleetRepo) site() (sitegen.Site, *History) {
	r.t.Helper()
	f, err := fleet.LoadRevision(r.dir, "HEAD")
	if err != nil {
		r.t.Fatal(err)
	}
	head, err := r.repo.Head()
	if err != nil {
		r.t.Fatal(err)
	}
	h, err := LoadHistory(r.repo, head.Hash())
	if err != nil {
		r.t.Fatal(err)
	}
	site, err := Site(f, Options{History: h})
	if err != nil {
		r.t.Fatal(err)
	}
	return site, h
}

func withOld(tester string) string {
	return strings.Replace(tester, "catalog: [extra]", "catalog: [extra, old]", 1)
}

func TestRemovedAppInCodeSpanFailsTheBuild(t *testing.T) {
	r := newFleetRepo(t)
	ar, _ := txtar.ParseFile(filepath.Join("testdata", "small.txtar"))
	var tester string
	for _, f := range ar.Files {
		if f.Name == "roles/tester.yaml" {
			tester = string(f.Data)
		}
	}
	r.write("apps/old.yaml", oldApp)
	r.write("roles/tester.yaml", withOld(tester))
	r.commit("add old")
	r.remove("apps/old.yaml")
	r.write("roles/tester.yaml", tester)
	removal := r.commit("drop old: replaced by extra")
	r.write("runbook/notes.md", "# Notes\n\nRestart `old_web` when it hangs,\nor reinstall `old` from the cockpit.\nThe `ui_web` binary is fine.\n")
	r.commit("notes")

	site, _ := r.site()
	err := sitegen.Build(context.Background(), site, t.TempDir())
	var be *sitegen.BuildError
	if !errors.As(err, &be) {
		t.Fatalf("want a BuildError naming the stale names, got %v", err)
	}
	short := removal.String()[:10]
	want := []string{
		`runbook/notes.md:3: stale name ` + "`old_web`" + `: binary "old_web" is no longer in the fleet (removed in ` + short + ` "drop old: replaced by extra")`,
		`runbook/notes.md:4: stale name ` + "`old`" + `: app "old" is no longer in the fleet (removed in ` + short + ` "drop old: replaced by extra")`,
	}
	if got := be.Error(); got != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}

	// Without the stale names the same history builds, and the changelog tells the story.
	r.write("runbook/notes.md", "# Notes\n\nThe {{ binary \"ui_web\" }} binary is fine.\n")
	r.commit("notes: drop the old app")
	site, h := r.site()
	if err := sitegen.Build(context.Background(), site, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if len(h.Commits) != 4 {
		t.Fatalf("history has %d commits, want 4", len(h.Commits))
	}
	var changelog string
	for _, p := range site.Pages {
		if p.Path == "changelog" {
			changelog = string(p.Markdown)
		}
	}
	for _, w := range []string{
		"## 2026-11-20 " + short,
		"**drop old: replaced by extra** — Ops, 2026-11-20 11:00 UTC",
		"- removed app **old**",
		"- changed role [Tester VM](/roles/tester.md)",
		"- added app [Engine](/apps/engine.md)",
		"- edited runbook page `runbook/notes.md`",
	} {
		if !strings.Contains(changelog, w) {
			t.Errorf("changelog lacks %q:\n%s", w, changelog)
		}
	}
}

// TestAppBackAtHeadIsNotStale: a name removed once and added again is current, not stale.
func TestAppBackAtHeadIsNotStale(t *testing.T) {
	r := newFleetRepo(t)
	r.write("apps/old.yaml", oldApp)
	r.commit("add old")
	r.remove("apps/old.yaml")
	r.commit("drop old")
	r.write("apps/old.yaml", oldApp)
	r.write("runbook/notes.md", "# Notes\n\n`old_web` is back.\n")
	r.commit("old is back")
	site, _ := r.site()
	if err := sitegen.Build(context.Background(), site, t.TempDir()); err != nil {
		t.Fatal(err)
	}
}

// TestNameDroppedInWorkTreeIsStale: rendering a work tree that removed an app its HEAD commit still has rejects
// code spans naming it too.
func TestNameDroppedInWorkTreeIsStale(t *testing.T) {
	r := newFleetRepo(t)
	r.write("apps/old.yaml", oldApp)
	head := r.commit("add old")
	r.remove("apps/old.yaml")
	r.write("runbook/notes.md", "# Notes\n\n`old_web` hangs sometimes.\n")
	f, err := fleet.LoadDir(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := LoadHistory(r.repo, head)
	if err != nil {
		t.Fatal(err)
	}
	site, err := Site(f, Options{History: h})
	if err != nil {
		t.Fatal(err)
	}
	err = sitegen.Build(context.Background(), site, t.TempDir())
	want := "runbook/notes.md:3: stale name `old_web`: binary \"old_web\" is no longer in the fleet (removed in the work tree since " + head.String()[:10] + ")"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// TestBrokenCommitInHistory: a commit whose fleet does not validate is read as far as it goes and marked refused.
func TestBrokenCommitInHistory(t *testing.T) {
	r := newFleetRepo(t)
	r.commit("initial")
	r.write("roles/admin.yaml", "title: Admin VM\npreinstalled: [engine, nope]\n")
	bad := r.commit("typo in admin role")
	r.write("roles/admin.yaml", "title: Admin VM\ndescription: Shared engines.\npreinstalled: [engine]\n")
	r.commit("fix admin role")
	site, h := r.site()
	if err := sitegen.Build(context.Background(), site, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	var refused []string
	for _, c := range h.Commits {
		if c.Broken {
			refused = append(refused, c.Hash)
		}
	}
	if len(refused) != 1 || refused[0] != bad.String() {
		t.Fatalf("refused commits = %v, want [%s]", refused, bad)
	}
}

// TestChangelogSummarizesABigCommit: a commit that adds many runbook pages is one line in the changelog, with a
// count and the first few names, so the changelog does not grow with the size of the runbook.
func TestChangelogSummarizesABigCommit(t *testing.T) {
	r := newFleetRepo(t)
	r.commit("initial")
	for i := range 7 {
		r.write(fmt.Sprintf("runbook/p%d.md", i), fmt.Sprintf("# Page %d\n", i))
	}
	r.commit("seven pages")
	r.write("runbook/p0.md", "# Page zero\n")
	r.commit("one page")
	site, _ := r.site()
	var changelog string
	for _, p := range site.Pages {
		if p.Path == "changelog" {
			changelog = string(p.Markdown)
		}
	}
	for _, want := range []string{
		"- edited 7 runbook pages: `runbook/p0.md`, `runbook/p1.md`, `runbook/p2.md`, `runbook/p3.md`, `runbook/p4.md` and 2 more\n",
		"- edited runbook page `runbook/p0.md`\n",
	} {
		if !strings.Contains(changelog, want) {
			t.Errorf("changelog lacks %q:\n%s", want, changelog)
		}
	}
	if strings.Contains(changelog, "runbook/p6.md") {
		t.Errorf("changelog lists every page of the big commit:\n%s", changelog)
	}
}
