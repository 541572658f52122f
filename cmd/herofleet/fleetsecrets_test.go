package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/herofleet/herofleet/secrets"
)

// TestFleetSecretsWorkflow runs the run: steps of .forgejo/workflows/fleet-secrets.yml as a Forgejo runner would,
// in a fleet checkout where a new tester's host file just landed: the tester gets its token, the engine its hashes,
// with no identity on the runner; a run with nothing new proposes nothing.
func TestFleetSecretsWorkflow(t *testing.T) {
	if testing.Short() {
		t.Skip("runs git and the herofleet binary")
	}
	bin := herofleetBinary(t)
	_, self, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", ".forgejo", "workflows", "fleet-secrets.yml"))
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
	keys := t.TempDir()
	recipient := map[string]string{}
	for _, h := range []string{"admin-1", "tester-07"} {
		id, _, err := secrets.CreateIdentity(filepath.Join(keys, h+".key"))
		if err != nil {
			t.Fatal(err)
		}
		recipient[h] = id.Recipient().String()
	}
	work := t.TempDir()
	for name, content := range map[string]string{
		"fleet.yaml":           "name: hero\n",
		"apps/voice.yaml":      "source: {repo: https://forge.example/voice.git}\nbinaries: [{name: voice_server, kind: server, path: v}]\n",
		"roles/admin.yaml":     "preinstalled: [voice]\n",
		"roles/tester.yaml":    "preinstalled: []\n",
		"hosts/admin-1.yaml":   "role: admin\nrecipient: " + recipient["admin-1"] + "\n",
		"hosts/tester-07.yaml": "role: tester\nrecipient: " + recipient["tester-07"] + "\n",
	} {
		p := filepath.Join(work, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example"}, args...)...)
		cmd.Dir = work
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-qm", "a new tester")

	env := append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GITHUB_PATH="+filepath.Join(t.TempDir(), "path"), "REVOKE=", "HOME="+t.TempDir())
	for k, v := range wf.Env {
		env = append(env, k+"="+v)
	}
	run := func(name string) string {
		t.Helper()
		for _, st := range wf.Jobs["issue"].Steps {
			if st.Name != name {
				continue
			}
			cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", st.Run)
			cmd.Dir, cmd.Env = work, env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("step %q: %v\n%s", name, err, out)
			}
			return string(out)
		}
		t.Fatalf("no step %q in fleet-secrets.yml", name)
		return ""
	}
	out := run("Issue tokens to hosts that lack them")
	if !strings.Contains(out, "issued: tester-07") || !strings.Contains(out, "is valid") {
		t.Fatalf("issue step said:\n%s", out)
	}
	for _, f := range []string{"secrets/tester-07/voice-token.age", "secrets/admin-1/voice-token-hashes.age", "secrets/admin-1/voice-token-hashes.sha256"} {
		if _, err := os.Stat(filepath.Join(work, f)); err != nil {
			t.Errorf("the issue step did not write %s: %v", f, err)
		}
	}
	git("add", ".")
	git("commit", "-qm", "issued")
	if out := run("Issue tokens to hosts that lack them"); strings.Contains(out, "issued:") {
		t.Fatalf("a second run issued again:\n%s", out)
	}
	if out := run("Propose the change as a pull request"); !strings.Contains(out, "nothing to propose") {
		t.Fatalf("propose step with nothing new:\n%s", out)
	}
}
