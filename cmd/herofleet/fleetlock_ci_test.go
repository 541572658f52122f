package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// packageStore is a generic package registry as far as the workflow uses it: PUT stores a file (201, or 409 when
// it is there already), GET serves it.
type packageStore struct {
	mu    sync.Mutex
	files map[string][]byte
}

func (p *packageStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch r.Method {
	case http.MethodPut:
		if _, ok := p.files[r.URL.Path]; ok {
			w.WriteHeader(http.StatusConflict)
			return
		}
		data, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		p.files[r.URL.Path] = data
		w.WriteHeader(http.StatusCreated)
	case http.MethodGet:
		data, ok := p.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}
}

// TestFleetLockWorkflow runs the run: steps of .forgejo/workflows/fleet-lock.yml that need no Forgejo, in order,
// in a checkout of a fleet repo whose app repos are on a loopback forge: the lock moves to the apps' newest
// commits, the artifact app is built once from its locked commit, published, and recorded in fleet.lock with the
// sha256 of the archive the registry holds, and the new lock validates deeply. The last step (push a branch and
// open a pull request) needs Forgejo's API; actionlint checks it.
func TestFleetLockWorkflow(t *testing.T) {
	if testing.Short() {
		t.Skip("runs git and the herofleet binary")
	}
	bin := herofleetBinary(t)
	_, self, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", ".forgejo", "workflows", "fleet-lock.yml"))
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

	srv, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	commitApp := func(name string, files map[string]string) string {
		h, err := srv.Commit(name, "main", "app", gitserver.Text(files))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	notesFiles := map[string]string{"service.toml": "[[binaries]]\nname = \"notes\"\nkind = \"server\"\n", "Makefile": "build:\n\techo built > notes\n"}
	books1 := commitApp("lhumina_code/hero_books", map[string]string{"service.toml": booksService, "Makefile": "build:\n"})
	notes1 := commitApp("lhumina_code/notes", notesFiles)
	base := map[string]string{
		"fleet.yaml":        "name: hero\n",
		"apps/books.yaml":   booksApp,
		"apps/notes.yaml":   "source: {repo: https://forge.ourworld.tf/lhumina_code/notes.git}\nbuild: {command: [make, build]}\nartifact: {url: https://pkg.example/notes.tar.gz, sha256: " + strings.Repeat("a", 64) + "}\nbinaries: [{name: notes, kind: server, path: notes}]\n",
		"roles/tester.yaml": "preinstalled: [books, notes]\n",
		"fleet.lock":        "books main " + books1 + "\nnotes main " + notes1 + "\n",
	}
	if _, err := srv.Commit("ops/hero-fleet", "main", "base fleet", gitserver.Text(base)); err != nil {
		t.Fatal(err)
	}
	// The apps move on after the lock was written.
	books2 := commitApp("lhumina_code/hero_books", map[string]string{"service.toml": booksService, "Makefile": "build:\n", "v": "2"})
	notesFiles["v"] = "2"
	notes2 := commitApp("lhumina_code/notes", notesFiles)

	store := &packageStore{files: map[string][]byte{}}
	pkg := httptest.NewServer(store)
	defer pkg.Close()

	work := checkoutChange(t, srv.RepoURL("ops/hero-fleet"), map[string]string{"fleet.yaml": "name: hero\ntitle: Hero\n"})
	env := os.Environ()
	for k, v := range wf.Env {
		env = append(env, k+"="+v)
	}
	env = append(env,
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HEROFLEET_REWRITE=--rewrite https://forge.ourworld.tf/="+srv.URL(),
		"GITHUB_PATH="+filepath.Join(t.TempDir(), "path"),
		"XDG_CACHE_HOME="+t.TempDir(),
		"APPS=", // workflow_dispatch without input, or the schedule: every app
		"PKG="+pkg.URL+"/api/packages/ops/generic", "GITHUB_ACTOR=ci", "TOKEN=secret",
	)
	ran := map[string]bool{}
	for _, st := range wf.Jobs["lock"].Steps {
		if st.Run == "" || strings.HasPrefix(st.Name, "Propose") {
			continue // uses: steps are the runner's; the pull request needs Forgejo
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", st.Run)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("step %q: %v\n%s", st.Name, err, out)
		}
		ran[st.Name] = true
	}
	for _, name := range []string{"Update the lock", "Build and record the artifacts", "Validate the new lock"} {
		if !ran[name] {
			t.Errorf("step %q did not run", name)
		}
	}

	lockData, err := os.ReadFile(filepath.Join(work, "fleet.lock"))
	if err != nil {
		t.Fatal(err)
	}
	lock, err := fleet.ParseLock(lockData)
	if err != nil {
		t.Fatalf("fleet.lock: %v\n%s", err, lockData)
	}
	books, _ := lock.Find("books", "main")
	notes, _ := lock.Find("notes", "main")
	if books.Commit != books2 || books.Artifact != nil {
		t.Errorf("books: %+v; want %s without an artifact", books, books2)
	}
	if notes.Commit != notes2 || notes.Artifact == nil {
		t.Fatalf("notes: %+v; want %s with its artifact\n%s", notes, notes2, lockData)
	}
	// The recorded archive is the one the registry holds, byte for byte.
	resp, err := http.Get(notes.Artifact.URL)
	if err != nil {
		t.Fatal(err)
	}
	archive, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(archive)
	if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != notes.Artifact.SHA256 {
		t.Errorf("GET %s: %d, sha256 %x; the lock says %s", notes.Artifact.URL, resp.StatusCode, sum, notes.Artifact.SHA256)
	}
	if !strings.HasPrefix(string(lockData), "# fleet.lock: generated by herofleet lock") {
		t.Errorf("fleet.lock has no generated header:\n%s", lockData)
	}
}
