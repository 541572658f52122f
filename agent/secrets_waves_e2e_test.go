package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/plugins"
	"github.com/herofleet/herofleet/secrets"
)

// renderer is a config-file hook: it writes the secret its with names into <data>/<secret>.conf, as the
// config-file plugin renders one into a config file, and counts its runs per app.
type renderer struct {
	mu   sync.Mutex
	runs map[string]int
}

func (r *renderer) Run(ctx context.Context, c plugins.Call) (*plugins.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs[c.App]++
	name, _ := c.With["secret"].(string)
	v, err := os.ReadFile(filepath.Join(c.Secrets, name))
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return &plugins.Result{}, os.WriteFile(filepath.Join(c.DataDir, name+".conf"), v, 0o600)
}

func (r *renderer) count(app string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[app]
}

// The fleet of the secrets-in-waves test: t1 (the harness's agent) in wave rest behind canary t0, Prometheus
// unreachable (every newer commit is held); books renders the secret token into its config, memo reads none.
const secretsWavesFleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
rollout:
  waves:
    - {name: canary, hosts: [t0]}
    - {name: rest}
  bake: 1m
  health: {prometheus: "http://127.0.0.1:1"}
-- hosts/t0.yaml --
role: tester
-- hosts/t1.yaml --
role: tester
recipient: {{recipient}}
-- roles/tester.yaml --
preinstalled: [books, memo]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: books_server, args: [--listen, "unix://${sockets}/books_server.sock"{{args}}], listen: "unix://${sockets}/books_server.sock", health: /health}
hooks:
  - {plugin: config-file, on: pre-start, with: {secret: token}}
-- apps/memo.yaml --
source: {repo: https://forge.test/apps/memo.git, ref: main}
build: {command: [{{testapp}}, build, memo_server], timeout: 1m}
binaries:
  - {name: memo_server, kind: server, path: memo_server, args: [--listen, "unix://${sockets}/memo_server.sock"], listen: "unix://${sockets}/memo_server.sock", health: /health}
`

// Secrets are not rolled out in waves: a host of a later wave that holds a newer commit (no answer from
// Prometheus) still applies that commit's secrets in the same poll, and so does a suspended host; the app whose hook
// reads the rotated secret re-runs it and restarts (its rendered file has the new value), the app that reads no
// secret keeps running untouched. A revocation removes the secret in one poll.
func TestSecretsApplyAtOnceWhateverHoldsTheCommit(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitApp("memo")
	idFile := filepath.Join(h.dir, "host.key")
	id, _, err := secrets.CreateIdentity(idFile)
	if err != nil {
		t.Fatal(err)
	}
	vars := agenttest.Vars{"recipient": id.Recipient().String(), "args": ""}
	commit := func(token, args string) string {
		v := agenttest.Vars{"recipient": vars["recipient"], "args": args}
		if token == "" {
			return h.commitFleet(secretsWavesFleet, v)
		}
		return h.commitFleet(secretsWavesFleet+"-- secrets/t1/token.age --\n"+ageEncrypt(t, id.Recipient().String(), token), v)
	}
	first := commit("tok-1", "")
	cfg := h.config()
	cfg.IdentityFile = idFile
	hooks := &renderer{runs: map[string]int{}}
	a, err := New(cfg, testLogger(t), hooks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	mustSync(t, a)
	rendered := filepath.Join(h.dir, "data", "books", "token.conf")
	secretFile := filepath.Join(cfg.SecretsDir, "token")
	st := a.Status()
	if st.Fleet.Commit != first || appOf(st, "books").State != api.AppInstalled || appOf(st, "memo").State != api.AppInstalled {
		t.Fatalf("first commit: %+v books %+v memo %+v", st.Fleet, appOf(st, "books"), appOf(st, "memo"))
	}
	if b, _ := os.ReadFile(rendered); string(b) != "tok-1" {
		t.Fatalf("rendered %q, want tok-1", b)
	}
	books, memo, runs := binOf(t, st, "books").PID, binOf(t, st, "memo").PID, hooks.count("books")

	// A rotated secret in a commit the rollout holds: applied in this poll, books restarted on the commit it runs.
	second := commit("tok-2", `, --greeting, hi`)
	mustSync(t, a)
	st = a.Status()
	if st.Fleet.Commit != first || st.Fleet.State != api.SyncWaiting || st.Fleet.Rollout == nil || st.Fleet.Rollout.Waiting != second {
		t.Fatalf("held: %+v rollout %+v; want %s kept, %s held", st.Fleet, st.Fleet.Rollout, short(first), short(second))
	}
	if b, _ := os.ReadFile(secretFile); string(b) != "tok-2" {
		t.Fatalf("held commit's secret not applied: %q", b)
	}
	if b, _ := os.ReadFile(rendered); string(b) != "tok-2" || hooks.count("books") != runs+1 {
		t.Fatalf("books' rendered config %q after %d hook runs, want tok-2 after a run more than %d", b, hooks.count("books"), runs)
	}
	if b := binOf(t, st, "books"); b.PID == books || b.State != api.BinRunning {
		t.Errorf("books after its secret rotated: %+v, want restarted (was pid %d)", b, books)
	}
	if m := binOf(t, st, "memo"); m.PID != memo || m.State != api.BinRunning {
		t.Errorf("memo, which reads no secret: %+v, want pid %d untouched", m, memo)
	}
	if b := st.Apps; len(b) == 0 || !st.Healthy() {
		t.Errorf("not healthy after the rotation: %+v", st.Verdict())
	}
	books = binOf(t, st, "books").PID
	mustSync(t, a) // asked again: nothing restarts
	if b := binOf(t, a.Status(), "books"); b.PID != books {
		t.Errorf("books restarted again on an unchanged secret: pid %d, was %d", b.PID, books)
	}

	// Suspended: a revocation (the secret leaves the repo) still takes effect in one poll; the commit waits.
	if err := a.Suspend(); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	third := commit("", `, --greeting, hi`)
	mustSync(t, a)
	st = a.Status()
	if st.Fleet.Commit != first || st.Fleet.State != api.SyncSuspended || st.Fleet.Head != third || len(st.Refused) != 0 {
		t.Fatalf("suspended: %+v refused %+v", st.Fleet, st.Refused)
	}
	if _, err := os.Stat(secretFile); !os.IsNotExist(err) {
		t.Fatalf("a revoked secret is still in the dir of a suspended host: %v", err)
	}
	if m := binOf(t, st, "memo"); m.PID != memo {
		t.Errorf("memo restarted while suspended")
	}

	// A rotation while suspended: the value is in place at once; books' restart waits for the resume.
	fourth := commit("tok-4", `, --greeting, hi`)
	mustSync(t, a)
	if b, _ := os.ReadFile(secretFile); string(b) != "tok-4" {
		t.Fatalf("suspended: secret %q, want tok-4", b)
	}
	if err := a.Resume(); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	st = a.Status()
	if st.Fleet.Commit != first || st.Fleet.Rollout == nil || st.Fleet.Rollout.Waiting != fourth {
		t.Fatalf("resumed: %+v rollout %+v; want %s held", st.Fleet, st.Fleet.Rollout, short(fourth))
	}
	if b, _ := os.ReadFile(rendered); string(b) != "tok-4" || binOf(t, st, "books").PID == books {
		t.Errorf("resumed: rendered %q, books %+v; want tok-4 and a restart", b, binOf(t, st, "books"))
	}
	if m := binOf(t, st, "memo"); m.PID != memo {
		t.Errorf("memo restarted")
	}
	if strings.Contains(statusText(t, a), "tok-") {
		t.Errorf("the status shows a secret value")
	}
}

// The fleet of the revocation-after-restart test: t1 in wave rest behind canary t0, Prometheus unreachable (every
// newer commit is held); memo reads no secret.
const secretsRestartFleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
rollout:
  waves:
    - {name: canary, hosts: [t0]}
    - {name: rest}
  bake: 1m
  health: {prometheus: "http://127.0.0.1:1"}
-- hosts/t0.yaml --
role: tester
-- hosts/t1.yaml --
role: tester
recipient: {{recipient}}
-- roles/tester.yaml --
preinstalled: [memo]
-- apps/memo.yaml --
source: {repo: https://forge.test/apps/memo.git, ref: main}
build: {command: [{{testapp}}, build, memo_server], timeout: 1m}
binaries:
  - {name: memo_server, kind: server, path: memo_server, args: [--listen, "unix://${sockets}/memo_server.sock"{{args}}], listen: "unix://${sockets}/memo_server.sock", health: /health}
`

// A revocation stays revoked across a restart: a commit that revokes a secret is held by the rollout (its secrets
// are written at once), a newer head is refused, and the agent restarts. It converges its applied commit, whose
// secrets still hold the revoked value; the secrets dir records that it holds the held commit's, a newer one, and
// keeps them.
func TestRevokedSecretStaysRevokedAfterRestart(t *testing.T) {
	h := newHarness(t)
	h.commitApp("memo")
	idFile := filepath.Join(h.dir, "host.key")
	id, _, err := secrets.CreateIdentity(idFile)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := secrets.CreateIdentity(filepath.Join(h.dir, "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	commit := func(secret, args string) string {
		return h.commitFleet(secretsRestartFleet+secret, agenttest.Vars{"recipient": id.Recipient().String(), "args": args})
	}
	first := commit("-- secrets/t1/token.age --\n"+ageEncrypt(t, id.Recipient().String(), "tok-1"), "")
	cfg := h.config()
	cfg.IdentityFile = idFile
	a, err := New(cfg, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	mustSync(t, a)
	secretFile := filepath.Join(cfg.SecretsDir, "token")
	if b, _ := os.ReadFile(secretFile); a.Status().Fleet.Commit != first || string(b) != "tok-1" {
		t.Fatalf("first commit: %+v, secret %q", a.Status().Fleet, b)
	}

	// The secret is revoked in a commit the rollout holds: it leaves the dir at once.
	revoked := commit("", `, --greeting, hi`)
	mustSync(t, a)
	if st := a.Status(); st.Fleet.Commit != first || st.Fleet.Rollout == nil || st.Fleet.Rollout.Waiting != revoked {
		t.Fatalf("held: %+v rollout %+v", st.Fleet, st.Fleet.Rollout)
	}
	if _, err := os.Stat(secretFile); !os.IsNotExist(err) {
		t.Fatalf("the revoked secret is still in the dir: %v", err)
	}
	// A newer head is refused (its secret is encrypted to another host).
	bad := commit("-- secrets/t1/token.age --\n"+ageEncrypt(t, other.Recipient().String(), "tok-evil"), `, --greeting, hi`)
	mustSync(t, a)
	if st := a.Status(); st.Fleet.Commit != first || len(st.Refused) != 1 || st.Refused[0].Commit != bad {
		t.Fatalf("refused: %+v %+v", st.Fleet, st.Refused)
	}

	// The agent restarts: it converges its applied commit, first, and must not write its secrets back.
	a.Shutdown()
	b, err := New(cfg, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Shutdown)
	b.restore(context.Background()) // as Run starts: the recorded apps and the applied commit
	mustSync(t, b)
	if st := b.Status(); st.Fleet.Commit != first {
		t.Fatalf("after the restart: %+v", st.Fleet)
	}
	if v, err := os.ReadFile(secretFile); !os.IsNotExist(err) {
		t.Fatalf("after a restart the revoked secret is back: %q (%v)", v, err)
	}
	mustSync(t, b)
	if _, err := os.Stat(secretFile); !os.IsNotExist(err) {
		t.Fatalf("a second sync after the restart wrote the revoked secret back: %v", err)
	}
}
