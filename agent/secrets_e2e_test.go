package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/plugins"
	"github.com/herofleet/herofleet/secrets"
)

// secretReader is a hook runner that reads the secret "token" from the secrets dir when a hook runs: what a
// plugin would find there.
type secretReader struct{ seen []string }

func (r *secretReader) Run(ctx context.Context, c plugins.Call) (*plugins.Result, error) {
	b, err := os.ReadFile(filepath.Join(c.Secrets, "token"))
	if err != nil {
		r.seen = append(r.seen, c.Event+": "+err.Error())
	} else {
		r.seen = append(r.seen, c.Event+": "+string(b))
	}
	return &plugins.Result{}, nil
}

// ageEncrypt encrypts with Debian's age, as an operator without herofleet would.
func ageEncrypt(t *testing.T, recipient, value string) string {
	t.Helper()
	cmd := exec.Command("age", "-a", "-r", recipient)
	cmd.Stdin = strings.NewReader(value)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("age -r: %v (apt-get install -y age)", err)
	}
	return string(out)
}

// The agent decrypts its host's secrets (written by Debian's age) into secrets_dir before the first hook runs,
// 0600; a file it cannot decrypt refuses the commit whole, naming the file, and the last good value stays; a
// secret that leaves the repo leaves the dir.
func TestSecretsDecryptedBeforeHooks(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	idFile := filepath.Join(h.dir, "host.key")
	id, _, err := secrets.CreateIdentity(idFile)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := secrets.CreateIdentity(filepath.Join(h.dir, "other.key"))
	const fleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- hosts/t1.yaml --
role: tester
recipient: {{recipient}}
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
hooks:
  - {plugin: config-file, on: pre-build}
`
	vars := agenttest.Vars{"recipient": id.Recipient().String()}
	good := h.commitFleet(fleet+"-- secrets/t1/token.age --\n"+ageEncrypt(t, id.Recipient().String(), "tok-1"), vars)

	cfg := h.config()
	cfg.IdentityFile = idFile
	r := &secretReader{}
	a, err := New(cfg, testLogger(t), r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	mustSync(t, a)
	if len(r.seen) == 0 || r.seen[0] != "pre-build: tok-1" {
		t.Fatalf("the first hook saw %q", r.seen)
	}
	secretFile := filepath.Join(cfg.SecretsDir, "token")
	if st, err := os.Stat(secretFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", st, err)
	}

	// Encrypted to another host's key only: refused whole, the file named, the good value kept.
	bad := h.commitFleet(fleet+"-- secrets/t1/token.age --\n"+ageEncrypt(t, other.Recipient().String(), "tok-evil"), vars)
	mustSync(t, a)
	st := a.Status()
	if st.Fleet.Commit != good || st.Fleet.State != "refused" || len(st.Refused) != 1 || st.Refused[0].Commit != bad ||
		!strings.Contains(st.Refused[0].Reason, "secrets/t1/token.age") {
		t.Fatalf("fleet %+v refused %+v", st.Fleet, st.Refused)
	}
	if b, _ := os.ReadFile(secretFile); string(b) != "tok-1" {
		t.Fatalf("after a refused commit the secret is %q", b)
	}

	// A new value applies; then the secret leaves the repo and the dir.
	h.commitFleet(fleet+"-- secrets/t1/token.age --\n"+ageEncrypt(t, id.Recipient().String(), "tok-2"), vars)
	mustSync(t, a)
	if b, _ := os.ReadFile(secretFile); string(b) != "tok-2" || a.Status().Fleet.State != "ok" {
		t.Fatalf("new value: %q, %+v", b, a.Status().Fleet)
	}
	os.WriteFile(filepath.Join(cfg.SecretsDir, "by-hand"), []byte("kept"), 0o600)
	h.commitFleet(fleet, vars)
	mustSync(t, a)
	if _, err := os.Stat(secretFile); !os.IsNotExist(err) {
		t.Fatalf("a secret that left the repo is still in the dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.SecretsDir, "by-hand")); err != nil {
		t.Fatalf("a file the agent did not write was removed: %v", err)
	}
	for _, s := range []string{"tok-1", "tok-2"} {
		if strings.Contains(statusText(t, a), s) {
			t.Fatalf("the status holds a secret value")
		}
	}
}

func statusText(t *testing.T, a *Agent) string {
	t.Helper()
	b, err := json.Marshal(a.Status())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lockedBuffer is a log sink the agent's goroutines may write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A file that starts like an age file but holds a value in clear is refused, naming the file and why with a fixed
// text: the value reaches neither the status nor the log (age's parse error quotes the line it fails on).
func TestSecretInClearAfterAgeHeaderNeverShows(t *testing.T) {
	const password = "hunter2-s3cr3t"
	h := newHarness(t)
	idFile := filepath.Join(h.dir, "host.key")
	id, _, err := secrets.CreateIdentity(idFile)
	if err != nil {
		t.Fatal(err)
	}
	const fleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: []
-- hosts/t1.yaml --
role: tester
recipient: {{recipient}}
`
	vars := agenttest.Vars{"recipient": id.Recipient().String()}
	good := h.commitFleet(fleet+"-- secrets/t1/token.age --\n"+ageEncrypt(t, id.Recipient().String(), "tok-1"), vars)
	cfg := h.config()
	cfg.IdentityFile = idFile
	var logs lockedBuffer
	a, err := New(cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	mustSync(t, a)

	bad := h.commitFleet(fleet+"-- secrets/t1/db.age --\nage-encryption.org/v1\nDB_PASSWORD="+password+"\n", vars)
	mustSync(t, a)
	st := a.Status()
	const want = "secrets/t1/db.age: not an age file this host can decrypt (malformed header)"
	if st.Fleet.Commit != good || len(st.Refused) != 1 || st.Refused[0].Commit != bad || !strings.Contains(st.Refused[0].Reason, want) {
		t.Fatalf("fleet %+v refused %+v; want a refusal %q", st.Fleet, st.Refused, want)
	}
	for what, text := range map[string]string{"status": statusText(t, a), "log": logs.String()} {
		if strings.Contains(text, password) || strings.Contains(text, "DB_PASSWORD") {
			t.Errorf("the %s shows the secret file's content:\n%s", what, text)
		}
	}
}
