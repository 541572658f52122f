package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/herofleet/herofleet/internal/gitserver"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// herofleetBinary is the herofleet the workflow steps run: $HEROFLEET_BIN/herofleet (make test builds it), or a
// fresh build of this package.
func herofleetBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if dir := os.Getenv("HEROFLEET_BIN"); dir != "" {
			binPath = filepath.Join(dir, "herofleet")
			_, binErr = os.Stat(binPath)
			return
		}
		dir, err := os.MkdirTemp("", "herofleet-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "herofleet")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatalf("herofleet binary: %v", binErr)
	}
	return binPath
}

// workflowStep is a step of a Forgejo workflow job that runs a script.
type workflowStep struct {
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
}

func readWorkflow(t *testing.T, path string) (env map[string]string, steps []workflowStep) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Env  map[string]string `yaml:"env"`
		Jobs map[string]struct {
			Steps []workflowStep `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	job, ok := wf.Jobs["validate"]
	if !ok {
		t.Fatalf("%s: no validate job", path)
	}
	return wf.Env, job.Steps
}

const booksService = `[[binaries]]
name = "hero_books_server"
kind = "server"
[[binaries]]
name = "hero_books_web"
kind = "web"
[[binaries]]
name = "hero_books_admin"
kind = "admin"
[[binaries]]
name = "hero_books"
kind = "cli"
`

const booksApp = `title: Hero Books
source: {repo: https://forge.ourworld.tf/lhumina_code/hero_books.git, ref: main}
build: {command: [make, build]}
binaries:
  - {name: hero_books_server, kind: server, path: target/release/hero_books_server}
  - {name: hero_books_web, kind: web, path: target/release/hero_books_web, args: [--port, "9201"]}
  - {name: hero_books_admin, kind: admin, path: target/release/hero_books_admin}
`

const memoryApp = `title: hero_memory
source: {repo: https://forge.ourworld.tf/lhumina_code/hero_memory.git, ref: main}
binaries:
  - {name: hero_memory_server, kind: server, path: target/release/hero_memory_server}
`

// TestFleetValidateWorkflow runs the run: steps of .forgejo/workflows/fleet-validate.yml, in order, as a Forgejo
// runner would, in a checkout of a sample fleet repo whose app repos are served over loopback smart HTTP.
func TestFleetValidateWorkflow(t *testing.T) {
	if testing.Short() {
		t.Skip("runs git and the herofleet binary")
	}
	bin := herofleetBinary(t)
	_, self, _, _ := runtime.Caller(0)
	env, steps := readWorkflow(t, filepath.Join(filepath.Dir(self), "..", "..", ".forgejo", "workflows", "fleet-validate.yml"))

	srv, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	for name, files := range map[string]map[string]string{
		"lhumina_code/hero_books":  {"service.toml": booksService, "Makefile": "build:\n"},
		"lhumina_code/hero_memory": {"service.toml": "[[binaries]]\nname = \"hero_memory_server\"\nkind = \"server\"\n"},
	} {
		if _, err := srv.Commit(name, "main", "app", gitserver.Text(files)); err != nil {
			t.Fatal(err)
		}
	}
	base := map[string]string{
		"fleet.yaml":        "name: hero\n",
		"apps/books.yaml":   booksApp,
		"apps/memory.yaml":  memoryApp,
		"roles/tester.yaml": "preinstalled: [books, memory]\n",
		"runbook/oncall.md": "# On call\n\nIf {{ app \"books\" }} is down, restart `hero_books_web` and `hero_memory_server`.\n",
	}
	if _, err := srv.Commit("ops/hero-fleet", "main", "base fleet", gitserver.Text(base)); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		change  map[string]string // path -> new content; "" deletes
		failAt  string            // the step that must fail; "" = all green
		message string            // in that step's output
	}{
		{name: "good change", change: map[string]string{"apps/books.yaml": strings.Replace(booksApp, `"9201"`, `"9301"`, 1)}},
		{name: "binary dropped", failAt: "Validate the fleet (deep)",
			change:  map[string]string{"apps/books.yaml": strings.Replace(booksApp, "  - {name: hero_books_admin, kind: admin, path: target/release/hero_books_admin}\n", "", 1)},
			message: "app books: missing binaries that https://forge.ourworld.tf/lhumina_code/hero_books.git@main"},
		{name: "runbook names a removed service", failAt: "Build the runbook site",
			change:  map[string]string{"apps/memory.yaml": "", "roles/tester.yaml": "preinstalled: [books]\n"},
			message: "runbook/oncall.md:3: stale name `hero_memory_server`"},
		{name: "malformed file", failAt: "Validate the fleet (deep)",
			change:  map[string]string{"roles/tester.yaml": "preinstalled: [books, memory\n"},
			message: "roles/tester.yaml:1:1: invalid YAML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			work := checkoutChange(t, srv.RepoURL("ops/hero-fleet"), tc.change)
			stepEnv := os.Environ()
			for k, v := range env {
				stepEnv = append(stepEnv, k+"="+v)
			}
			stepEnv = append(stepEnv,
				"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
				"HEROFLEET_REWRITE=--rewrite https://forge.ourworld.tf/="+srv.URL(),
				"GITHUB_PATH="+filepath.Join(t.TempDir(), "path"),
				"XDG_CACHE_HOME="+t.TempDir(),
				"BASE=origin/main", // what ${{ github.base_ref }} gives on a pull request to main
			)
			ran := 0
			for _, st := range steps {
				if st.Run == "" {
					continue // uses: steps (checkout, artifacts) are the runner's job
				}
				cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", st.Run)
				cmd.Dir, cmd.Env = work, stepEnv
				out, err := cmd.CombinedOutput()
				ran++
				if st.Name == tc.failAt {
					if err == nil {
						t.Fatalf("step %q passed; want it red\n%s", st.Name, out)
					}
					if !strings.Contains(string(out), tc.message) {
						t.Fatalf("step %q failed without %q:\n%s", st.Name, tc.message, out)
					}
					return
				}
				if err != nil {
					t.Fatalf("step %q: %v\n%s", st.Name, err, out)
				}
			}
			if tc.failAt != "" {
				t.Fatalf("no step named %q ran", tc.failAt)
			}
			if ran < 4 {
				t.Fatalf("ran %d run: steps", ran)
			}
			plan, err := os.ReadFile(filepath.Join(work, "plan.md"))
			if err != nil || !strings.Contains(string(plan), "| restart | `books` | binary hero_books_web: args changed |") {
				t.Errorf("plan.md: %v\n%s", err, plan)
			}
			if _, err := os.Stat(filepath.Join(work, "runbook-site", "index.html")); err != nil {
				t.Errorf("runbook site: %v", err)
			}
		})
	}
}

// checkoutChange clones the fleet repo with full history (fetch-depth: 0) and commits a change on a branch, as a
// pull request's checkout looks.
func checkoutChange(t *testing.T, url string, change map[string]string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "fleet")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = filepath.Dir(work)
		if _, err := os.Stat(work); err == nil {
			cmd.Dir = work
		}
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("clone", "-q", url, work)
	git("checkout", "-q", "-b", "change")
	for p, content := range change {
		full := filepath.Join(work, filepath.FromSlash(p))
		if content == "" {
			if err := os.Remove(full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("add", "-A")
	git("commit", "-q", "-m", "change")
	return work
}
