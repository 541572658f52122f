package security

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// tree lists every file under dir (relative, sorted).
func tree(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// Names that climb out of their folder, and a host name that is PromQL, are refused by validate and by
// `secrets set`; nothing is written outside the fleet.
func TestPathTraversalAndPromQLInNames(t *testing.T) {
	_, rcp := identity(t)
	base := map[string]string{
		"fleet.yaml":        "name: security\n",
		"roles/tester.yaml": "preinstalled: []\n",
		"hosts/t1.yaml":     "role: tester\nrecipient: " + rcp + "\n",
	}
	promql := `a"} or vector(1) #`
	cases := []struct{ what, file string }{
		{"a host named ..", "hosts/...yaml"},
		{"a host named .", "hosts/..yaml"},
		{"a host that is PromQL", "hosts/" + promql + ".yaml"},
		{"a host with .. inside", "hosts/a..b.yaml"},
		{"a host with a slash-less traversal", "hosts/..%2f..%2fetc.yaml"},
		{"secrets of host ..", "secrets/../t1/x.age"}, // joined by the OS: secrets/ is left out, t1/x.age lands at the top
		{"a secret named ..", "secrets/t1/...age"},
		{"a secret in a deeper folder", "secrets/t1/sub/x.age"},
		{"secrets of a host that is PromQL", "secrets/" + promql + "/x.age"},
	}
	var refused []string
	for _, c := range cases {
		files := map[string]string{}
		for k, v := range base {
			files[k] = v
		}
		data := "role: tester\n"
		if strings.HasPrefix(c.file, "secrets/") {
			data = ageEncrypt(t, rcp, "v")
		}
		files[c.file] = data
		dir := fleetDir(t, files)
		code, out, errOut, _ := cli(t, nil, "validate", dir)
		msg := oneLine(out+errOut, ":")
		switch {
		case code == 1:
		case code == 0 && c.file == "secrets/../t1/x.age" && strings.Contains(out, "is valid: 0 apps, 1 roles, 1 hosts"):
			// the OS resolved the path before herofleet saw it: t1/x.age is a file outside every folder it reads
			msg = "the OS made it t1/x.age, a file of no folder herofleet reads; " + msg
		case code == 0 && strings.HasPrefix(filepath.Base(c.file), ".") && strings.Contains(out, "is valid: 0 apps, 1 roles, 1 hosts"):
			// a dotfile in hosts/ is no host file: the host does not exist (t1 is the one host)
			msg = "ignored, a dotfile is no host file (1 host: t1); " + msg
		default:
			t.Errorf("validate with %s: exit %d\n%s%s", c.file, code, out, errOut)
		}
		refused = append(refused, fmt.Sprintf("%s (`%s`): exit %d, %q", c.what, c.file, code, msg))
	}

	// secrets set: the host and the name come from the command line.
	dir := fleetDir(t, base)
	parent := filepath.Dir(dir)
	before := tree(parent)
	var setFig []string
	for _, args := range [][]string{{"..", "x"}, {"../../tmp", "x"}, {"t1", "../x"}, {"t1", "../../../tmp/x"}, {"t1", ".."}, {promql, "x"}, {"t1", promql}} {
		code, out, errOut, _ := cli(t, strings.NewReader("value-of-traversal"), append([]string{"secrets", "set"}, append(args, dir)...)...)
		if code == 0 {
			t.Errorf("secrets set %q %q: exit 0\n%s", args[0], args[1], out)
		}
		setFig = append(setFig, fmt.Sprintf("`%s %s` exit %d", args[0], args[1], code))
		_ = errOut
	}
	after := tree(parent)
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("secrets set wrote files: before %v after %v", before, after)
	}
	leak := "nothing"
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		leak = "files written"
	}

	// The agent, given the PromQL host in a fleet commit, refuses it.
	p := startAgent(t, "\n-- fleet.yaml --\nname: security\nsync: {schedule: \"@every 1h\"}\n-- roles/tester.yaml --\npreinstalled: []\n-- hosts/"+promql+".yaml --\nrole: tester\n", nil, options{})
	reason := p.refused()
	metrics := do(t, "GET", p.ro, "/metrics", "", "", nil).body
	if strings.Contains(metrics, "vector(1)") {
		t.Errorf("the PromQL host name is in the metrics")
	}
	record(t, Row{
		Attack: "path traversal and PromQL injection through host and secret names",
		Sent:   "fleet directories with: " + strings.Join(names(cases), ", ") + "; `herofleet secrets set HOST NAME` with HOST or NAME `..`, `../../tmp`, `../x`, `../../../tmp/x`, `" + promql + "`; a fleet commit with `hosts/" + promql + ".yaml` to the agent",
		Did: "validate refused every name outside " + "`^[a-z0-9][a-z0-9_-]{0,62}$`" + " (exit 1, file named) and ignored dotfiles in hosts/ (no host `..` exists); secrets set refused each and wrote nothing; the agent refused the commit. " +
			"Host names reach PromQL only through promapi.Quote and regexp.QuoteMeta (rollout/observe.go, Queries)",
		Figure: strings.Join(refused, "; ") + "; secrets set: " + strings.Join(setFig, ", ") + fmt.Sprintf("; agent: %q", reason),
		Leaked: leak,
	})
}

func names(cases []struct{ what, file string }) []string {
	var s []string
	for _, c := range cases {
		s = append(s, "`"+c.file+"`")
	}
	return s
}

// A fleet.lock entry naming a commit that is not on the app's ref (pushed to another branch by whoever can push
// there) is refused by validate --deep.
func TestLockedCommitNotOnItsRef(t *testing.T) {
	srv, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	service := gitserver.Text(map[string]string{"service.toml": "[[binaries]]\nname = \"books_server\"\nkind = \"server\"\n"})
	tip, err := srv.Commit("books", "main", "v1", service)
	if err != nil {
		t.Fatal(err)
	}
	evil, err := srv.Commit("books", "evil", "only on another branch", service)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"fleet.yaml":         "name: security\n",
		"apps/books.yaml":    "source: {repo: https://forge.example/books.git, ref: main}\nbinaries:\n  - {name: books_server, kind: server, path: s}\n",
		"roles/tester.yaml":  "preinstalled: [books]\n",
		"hosts/tester1.yaml": "role: tester\n",
		"fleet.lock":         "# fleet.lock: generated by herofleet lock. Do not edit by hand.\nbooks main " + evil + "\n",
	}
	dir := fleetDir(t, files)
	args := []string{"validate", "--deep", "--rewrite", "https://forge.example/=" + srv.URL(), "--cache", t.TempDir(), dir}
	code, out, errOut, _ := cli(t, nil, args...)
	if code != 1 || !strings.Contains(out+errOut, "fleet.lock:2") || !strings.Contains(out+errOut, "is not on main") {
		t.Errorf("validate --deep with a commit only on another branch: exit %d\n%s%s", code, out, errOut)
	}
	write(t, filepath.Join(dir, "fleet.lock"), "books main "+tip+"\n", 0o644)
	okCode, okOut, okErr, _ := cli(t, nil, args...)
	if okCode != 0 {
		t.Errorf("validate --deep with the tip: exit %d\n%s%s", okCode, okOut, okErr)
	}
	record(t, Row{
		Attack: "a locked commit that is not on its ref",
		Sent:   "fleet.lock pinning books (ref main) to a commit pushed only to another branch `evil` of its repo; `herofleet validate --deep`",
		Did:    "refused it at fleet.lock:LINE (the commit is neither main's tip nor an ancestor); the tip of main passes",
		Figure: fmt.Sprintf("exit %d: %q; with main's tip: exit %d", code, oneLine(out+errOut, "fleet.lock"), okCode),
		Leaked: "nothing",
	})
}

// secrets issue: a tester that lost its recipient and its token file loses its hash, so no token outlives its file.
func TestSecretsIssueDropsOrphanHash(t *testing.T) {
	_, r1 := identity(t)
	_, r2 := identity(t)
	_, re := identity(t)
	dir := fleetDir(t, map[string]string{
		"fleet.yaml":         "name: security\n",
		"roles/tester.yaml":  "preinstalled: []\n",
		"roles/admin.yaml":   "preinstalled: []\n",
		"hosts/t1.yaml":      "role: tester\nrecipient: " + r1 + "\n",
		"hosts/t2.yaml":      "role: tester\nrecipient: " + r2 + "\n",
		"hosts/engine.yaml":  "role: admin\nrecipient: " + re + "\n",
		"secrets/.gitignore": "",
	})
	os.Remove(filepath.Join(dir, "secrets", ".gitignore"))
	issue := []string{"secrets", "issue", "tok", "--role", "tester", "--for", "engine", dir}
	if code, out, errOut, _ := cli(t, nil, issue...); code != 0 {
		t.Fatalf("secrets issue: exit %d\n%s%s", code, out, errOut)
	}
	hashes := filepath.Join(dir, "secrets", "engine", "tok-hashes.sha256")
	first, _ := os.ReadFile(hashes)
	if !strings.Contains(string(first), " t2") {
		t.Fatalf("hashes after the first issue:\n%s", first)
	}
	// t2 is re-provisioned: its recipient and its token file are gone.
	write(t, filepath.Join(dir, "hosts", "t2.yaml"), "role: tester\n", 0o644)
	os.Remove(filepath.Join(dir, "secrets", "t2", "tok.age"))
	code, out, errOut, _ := cli(t, nil, issue...)
	second, _ := os.ReadFile(hashes)
	if code != 0 || strings.Contains(string(second), " t2") {
		t.Errorf("after t2 lost its recipient and token: exit %d, hashes:\n%s\n%s%s", code, second, out, errOut)
	}
	count := func(b []byte) int { return strings.Count(strings.TrimSpace(string(b)), "\n") + 1 }
	leak := "nothing"
	if strings.Contains(string(second), " t2") {
		leak = "t2's hash: a token whose file is gone still opens the engine"
	}
	record(t, Row{
		Attack: "a token that outlives its file",
		Sent:   "`secrets issue tok --role tester --for engine` for t1 and t2; then t2 re-provisioned (its recipient and secrets/t2/tok.age removed) and issue run again",
		Did:    "dropped t2's hash from the engine's list (tok-hashes and tok-hashes.sha256): the lost token opens nothing; t1 kept its token",
		Figure: fmt.Sprintf("hash lines %d -> %d; second issue exit %d", count(first), count(second), code),
		Leaked: leak,
	})
	_ = agenttest.Vars{}
}
