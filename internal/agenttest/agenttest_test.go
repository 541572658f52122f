package agenttest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/internal/agenttest"
)

const fleet = `
-- fleet.yaml --
name: test
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
build: {command: [{{testapp}}, build, target/release/books_server]}
binaries:
  - {name: books_server, listen: "tcp://127.0.0.1:{{port}}", args: ["${data}"]}
`

func TestFleetFilesReplacesPlaceholders(t *testing.T) {
	files, err := agenttest.FleetFiles(fleet, agenttest.Vars{"testapp": "/bin/app", "port": "1"}, agenttest.Vars{"port": "9201"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || string(files["fleet.yaml"].Data) != "name: test\n" {
		t.Fatalf("files %v", files)
	}
	want := "build: {command: [/bin/app, build, target/release/books_server]}\nbinaries:\n" +
		"  - {name: books_server, listen: \"tcp://127.0.0.1:9201\", args: [\"${data}\"]}\n"
	if got := string(files["apps/books.yaml"].Data); got != want {
		t.Fatalf("apps/books.yaml:\n%s\nwant (a later Vars wins, ${data} is the fleet's own)\n%s", got, want)
	}
}

func TestFleetFilesLaterFileWins(t *testing.T) {
	files, err := agenttest.FleetFiles(fleet+"-- roles/tester.yaml --\npreinstalled: []\n", agenttest.Vars{"testapp": "x", "port": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(files["roles/tester.yaml"].Data); got != "preinstalled: []\n" {
		t.Fatalf("roles/tester.yaml = %q", got)
	}
}

func TestFleetFilesRefusesMistakes(t *testing.T) {
	for archive, want := range map[string]string{
		fleet:                                 "unknown placeholders {{port}}, {{testapp}}",
		"name: test\n-- apps/books.yaml --\n": "text before the first file",
		"\n\n":                                "no files",
	} {
		if _, err := agenttest.FleetFiles(archive); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("FleetFiles(%q) = %v, want %q", archive, err, want)
		}
	}
}

// A committed fleet is the whole tree of a new commit on main, and the forge serves it.
func TestCommitFleetServesTheTree(t *testing.T) {
	f := agenttest.StartForge(t, agenttest.Vars{"testapp": "/bin/app"})
	f.CommitFleet(fleet+"-- runbook/old.md --\nold\n", agenttest.Vars{"port": "9201"})
	rev := f.CommitFleet(fleet, agenttest.Vars{"port": "9202"})
	app := f.CommitApp("books", "FAIL_BUILD")

	r, err := git.PlainClone(t.TempDir(), false, &git.CloneOptions{URL: f.RepoURL(agenttest.FleetRepo)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CommitObject(plumbing.NewHash(rev))
	if err != nil {
		t.Fatal(err)
	}
	if head, _ := r.Head(); head.Hash().String() != rev || c.NumParents() != 1 {
		t.Fatalf("head %v, parents %d", head, c.NumParents())
	}
	tree, _ := c.Tree()
	if _, err := tree.File("runbook/old.md"); err == nil {
		t.Fatal("a file of the previous commit is still in the tree")
	}
	books, err := tree.File("apps/books.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := books.Contents(); !strings.Contains(text, "tcp://127.0.0.1:9202") || !strings.Contains(text, "[/bin/app, build") {
		t.Fatalf("apps/books.yaml: %s", text)
	}
	ar, err := git.PlainClone(t.TempDir(), false, &git.CloneOptions{URL: f.RepoURL("apps/books")})
	if err != nil {
		t.Fatal(err)
	}
	ac, _ := ar.CommitObject(plumbing.NewHash(app))
	if _, err := ac.File("FAIL_BUILD"); err != nil {
		t.Fatalf("app commit: %v", err)
	}
	if !strings.Contains(agenttest.AgentConfig("/tmp/x", f), f.URL()) {
		t.Fatal("the agent config does not rewrite forge.test to the forge")
	}
}

// The test app builds a binary that answers over its unix socket; the process carries the agent dir's marker as
// the agent's supervisor gives it, and MarkedProcs sees it until it is gone.
func TestTestappBinaryIsSeen(t *testing.T) {
	testapp, err := agenttest.BuildTestapp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := agenttest.AgentDir(t)
	build := exec.Command(testapp, "build", "target/release/books_server")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "books_server.sock")
	cmd := exec.Command(filepath.Join(dir, "target/release/books_server"), "--listen", "unix://"+sock)
	cmd.Env = append(os.Environ(), supervise.Marker(dir))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })

	agenttest.WaitUntil(t, 10*time.Second, "books_server to answer", func() bool {
		_, err := agenttest.GetUnix(sock, "/health")
		return err == nil
	})
	if body, err := agenttest.GetUnix(sock, "/"); err != nil || !strings.Contains(body, "binary=books_server") {
		t.Fatalf("GET /: %q %v", body, err)
	}
	if n := agenttest.MarkedProcs(dir); len(n) != 1 || n["books_server"] != 1 {
		t.Fatalf("marked processes %v", n)
	}
	if pids := agenttest.MarkedPIDs(dir); len(pids) != 1 || pids[0] != cmd.Process.Pid {
		t.Fatalf("marked pids %v, want [%d]", pids, cmd.Process.Pid)
	}
	_ = cmd.Process.Kill()
	<-done
	agenttest.WaitUntil(t, 5*time.Second, "no marked process", func() bool { return len(agenttest.MarkedProcs(dir)) == 0 })
	if _, err := agenttest.GetUnix(sock, "/health"); err == nil {
		t.Fatal("a killed binary still answers")
	}
}
