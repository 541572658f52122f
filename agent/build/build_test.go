package build

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// Tree checks a commit out (executable bits kept) and runs the build in it with only PATH, HOME, LANG and the
// extra variables: never the caller's environment.
func TestTreeBuildsInAMinimalEnvironment(t *testing.T) {
	repo, err := gitserver.InitBare(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rev, err := gitserver.Commit(repo, "main", "app", gitserver.Files{
		"build.sh":   {Data: []byte("#!/bin/sh\nenv | sort > env.txt\necho built $1 > out.txt\n"), Exec: true},
		"sub/a.txt":  {Data: []byte("a")},
		"README.txt": {Data: []byte("readme")},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("HEROFLEET_SECRET_OF_THE_CALLER", "leaked")
	dir := filepath.Join(t.TempDir(), "tree")
	app := &fleet.App{Name: "app", Build: &fleet.Build{Command: []string{"./build.sh", "${rev}"}}}
	spec := Spec{Dir: dir, Vars: fleet.Vars{App: "app", Rev: rev}, Path: "/usr/bin:/bin", Home: t.TempDir(), Lang: "C.UTF-8",
		Env: map[string]string{"GOFLAGS": "-mod=mod"}, Marker: "HEROFLEET_AGENT_DIR=/x"}
	var out bytes.Buffer
	if err := Tree(context.Background(), repo, plumbing.NewHash(rev), app, spec, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out.txt")); string(b) != "built "+rev+"\n" {
		t.Errorf("out.txt %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "a.txt")); string(b) != "a" {
		t.Errorf("sub/a.txt %q", b)
	}
	env, _ := os.ReadFile(filepath.Join(dir, "env.txt"))
	for _, want := range []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "GOFLAGS=-mod=mod", "HEROFLEET_AGENT_DIR=/x", "HOME=" + spec.Home} {
		if !strings.Contains(string(env), want+"\n") {
			t.Errorf("the build's environment lacks %s:\n%s", want, env)
		}
	}
	if strings.Contains(string(env), "HEROFLEET_SECRET_OF_THE_CALLER") {
		t.Errorf("the caller's environment reached the build:\n%s", env)
	}
	if !strings.Contains(out.String(), "herofleet: build app at "+rev) {
		t.Errorf("the output does not say what was built: %s", out.String())
	}
	if err := Checkout(repo, plumbing.NewHash(rev), dir); err == nil {
		t.Error("a checkout over an existing tree must fail, not mix two trees")
	}
}

// A build that outlives its timeout is killed with its whole process group, and the error says so.
func TestRunTimeoutKillsTheGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	b := &fleet.Build{Command: []string{"/bin/sh", "-c", "sleep 60 & echo $$! > " + pidFile + "; wait"}, Timeout: fleet.Duration{Duration: 300 * time.Millisecond}}
	start := time.Now()
	err := Run(context.Background(), "app", b, Spec{Dir: dir, Path: "/usr/bin:/bin"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "build timed out after 300ms") {
		t.Fatalf("err %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("the timeout took %s", time.Since(start))
	}
	pid, _ := os.ReadFile(pidFile)
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the build's child %s outlived the build", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A build whose executable this host lacks fails with a *ToolMissingError naming the tool and the build's PATH,
// before anything runs; a tool found only on the caller's own PATH is not used.
func TestRunToolMissing(t *testing.T) {
	self := t.TempDir()
	if err := os.Symlink("/bin/true", filepath.Join(self, "hf-callers-tool")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", self+":"+os.Getenv("PATH"))
	for _, c := range []struct{ prog, want string }{
		{"hf-no-such-tool", `build needs "hf-no-such-tool", which is not on this host's PATH (/usr/bin:/bin)`},
		{"hf-callers-tool", `build needs "hf-callers-tool", which is not on this host's PATH (/usr/bin:/bin)`},
		{"/nonexistent/bin/make", `build needs "/nonexistent/bin/make", which this host does not have`},
	} {
		var out bytes.Buffer
		err := Run(context.Background(), "app", &fleet.Build{Command: []string{c.prog, "build"}}, Spec{Dir: t.TempDir(), Path: "/usr/bin:/bin"}, &out)
		var missing *ToolMissingError
		if !errors.As(err, &missing) || missing.Tool != c.prog || err.Error() != c.want {
			t.Errorf("%s: err %v, want a *ToolMissingError %q", c.prog, err, c.want)
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("%s: the build's output does not say it: %s", c.prog, out.String())
		}
	}
	if err := Run(context.Background(), "app", &fleet.Build{Command: []string{"hf-callers-tool"}}, Spec{Dir: t.TempDir(), Path: self}, &bytes.Buffer{}); err != nil {
		t.Errorf("a tool on the build's PATH: %v", err)
	}
}

// A binary's path stays inside the tree and names an executable file.
func TestBinaryPath(t *testing.T) {
	tree := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(tree, "bin"), 0o755))
	must(os.WriteFile(filepath.Join(tree, "bin", "app"), []byte("#!/bin/sh\n"), 0o755))
	must(os.WriteFile(filepath.Join(tree, "bin", "data"), []byte("x"), 0o644))
	outside := filepath.Join(t.TempDir(), "evil")
	must(os.WriteFile(outside, []byte("#!/bin/sh\n"), 0o755))
	must(os.Symlink(outside, filepath.Join(tree, "bin", "out")))
	must(os.Symlink("app", filepath.Join(tree, "bin", "alias")))
	for _, c := range []struct{ rel, err string }{
		{"bin/app", ""},
		{"bin/alias", ""},
		{"bin/data", "not an executable file"},
		{"bin/missing", "was not built"},
		{"bin/out", "leaves the build tree"},
		{"../x", "leaves the build tree"},
		{"/bin/sh", "leaves the build tree"},
	} {
		p, err := BinaryPath(tree, c.rel)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.rel, err)
		case c.err == "" && !strings.HasPrefix(p, tree):
			t.Errorf("%s resolves to %s", c.rel, p)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: got %v, want an error with %q", c.rel, err, c.err)
		}
	}
}
