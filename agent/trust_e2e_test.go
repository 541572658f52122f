package agent

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// signedFleet is the fleet of the signature tests: what they change is who signs a commit and what its parent is,
// never the tree.
const signedFleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
`

// commitSigned commits signedFleet signed by signer (nil: unsigned) on parent ("" for the tip of main), with msg
// as its message.
func (h *harness) commitSigned(signer gitserver.Signer, parent, msg string) string {
	h.t.Helper()
	return h.forge.CommitFleetOn(parent, signer, msg, signedFleet)
}

// newAgentWith makes an agent whose config is the harness' plus extra YAML lines.
func (h *harness) newAgentWith(extra string) *Agent {
	h.t.Helper()
	cfg, err := ParseConfig([]byte(h.configText() + extra))
	if err != nil {
		h.t.Fatal(err)
	}
	a, err := New(cfg, testLogger(h.t), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(a.Shutdown)
	return a
}

func pgpEntity(t *testing.T, name string) (*openpgp.Entity, string) {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@example", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	p := filepath.Join(t.TempDir(), name+".asc")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return e, p
}

// sshGitSigner signs like `git commit -S` with gpg.format=ssh.
type sshGitSigner struct{ s ssh.Signer }

func (g sshGitSigner) Sign(m io.Reader) ([]byte, error) {
	sig, err := sshsig.Sign(m, g.s, sshsig.HashSHA512, "git")
	if err != nil {
		return nil, err
	}
	return sshsig.Armor(sig), nil
}

func sshSignerKey(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// expectRefused checks that head is refused for want, the applied commit and books' process untouched.
func expectRefused(t *testing.T, a *Agent, applied, head, want string, pid int) {
	t.Helper()
	mustSync(t, a)
	st := a.Status()
	if st.Fleet.Commit != applied || st.Fleet.Head != head || st.Fleet.State != "refused" {
		t.Fatalf("want %s refused and %s applied, fleet %+v", short(head), short(applied), st.Fleet)
	}
	last := st.Refused[len(st.Refused)-1]
	if last.Commit != head || !strings.Contains(last.Reason, want) {
		t.Fatalf("want a refusal of %s with %q, got %+v", short(head), want, st.Refused)
	}
	if b := appOf(st, "books").Binaries[0]; b.PID != pid || b.State != api.BinRunning {
		t.Fatalf("books disturbed by a refused commit: %+v", b)
	}
}

// With OpenPGP keys in the agent's config, only commits signed by one of them are applied; an unsigned commit,
// one signed by a stranger, and a force-push of a signed sibling are refused whole and the host keeps its last
// good commit, until a newer good one arrives.
func TestSignedFleetCommitsOpenPGP(t *testing.T) {
	h := newHarness(t)
	ops, opsKey := pgpEntity(t, "ops")
	stranger, _ := pgpEntity(t, "stranger")
	h.commitApp("books")
	first := h.commitSigned(gitserver.OpenPGP(ops), "", "first")
	a := h.newAgentWith(fmt.Sprintf("verify: {openpgp_keys: [%q]}\n", opsKey))
	mustSync(t, a)
	if st := a.Status(); st.Fleet.Commit != first || st.Fleet.State != "ok" {
		t.Fatalf("a signed first commit: %+v %+v", st.Fleet, st.Refused)
	}
	pid := appOf(a.Status(), "books").Binaries[0].PID

	unsigned := h.commitSigned(nil, "", "unsigned")
	expectRefused(t, a, first, unsigned, "unsigned", pid)
	mustSync(t, a) // still refused, not reported twice
	if st := a.Status(); len(st.Refused) != 1 || st.Fleet.State != "refused" {
		t.Fatalf("second sync of a refused commit: %+v %+v", st.Fleet, st.Refused)
	}
	byStranger := h.commitSigned(gitserver.OpenPGP(stranger), "", "stranger")
	expectRefused(t, a, first, byStranger, "by no trusted key", pid)

	second := h.commitSigned(gitserver.OpenPGP(ops), "", "second")
	mustSync(t, a)
	if st := a.Status(); st.Fleet.Commit != second || st.Fleet.State != "ok" || len(st.Refused) != 0 {
		t.Fatalf("a newer signed commit: %+v %+v", st.Fleet, st.Refused)
	}

	// A force-push: main moves to a signed sibling of the applied commit, so the testers would roll back.
	sibling := h.commitSigned(gitserver.OpenPGP(ops), first, "sibling")
	expectRefused(t, a, second, sibling, "does not descend from the applied commit", pid)
}

// In strict mode every commit since the applied one must be signed (SSH allowed signers here); allow_rewind
// accepts a force-pushed sibling.
func TestStrictSSHSignedCommitsAndAllowRewind(t *testing.T) {
	h := newHarness(t)
	ops := sshSignerKey(t)
	signers := filepath.Join(t.TempDir(), "allowed_signers")
	line := "ops@example " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ops.PublicKey()))) + "\n"
	if err := os.WriteFile(signers, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	h.commitApp("books")
	first := h.commitSigned(sshGitSigner{ops}, "", "first")
	a := h.newAgentWith(fmt.Sprintf("verify: {ssh_allowed_signers: %q, mode: strict}\nallow_rewind: true\n", signers))
	mustSync(t, a)
	if st := a.Status(); st.Fleet.Commit != first {
		t.Fatalf("a signed first commit: %+v %+v", st.Fleet, st.Refused)
	}
	pid := appOf(a.Status(), "books").Binaries[0].PID

	sneaky := h.commitSigned(nil, "", "sneaky")
	head := h.commitSigned(sshGitSigner{ops}, "", "signed on top")
	expectRefused(t, a, first, head, "commit "+short(sneaky)+" since the applied one: unsigned", pid)

	sibling := h.commitSigned(sshGitSigner{ops}, first, "rewound")
	mustSync(t, a)
	if st := a.Status(); st.Fleet.Commit != sibling || st.Fleet.State != "ok" {
		t.Fatalf("allow_rewind: a signed sibling is applied: %+v %+v", st.Fleet, st.Refused)
	}
}

// A key file that cannot be read stops the agent at start, not at the first refused commit.
func TestBadTrustedKeyIsAConfigError(t *testing.T) {
	h := newHarness(t)
	bad := filepath.Join(t.TempDir(), "ops.asc")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig([]byte(h.configText() + fmt.Sprintf("verify: {openpgp_keys: [%q]}\n", bad)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, nil, nil); err == nil || !strings.Contains(err.Error(), "verify.openpgp_keys") {
		t.Fatalf("New with a bad key file: %v", err)
	}
}

// A rewind is refused even when the local clone was made again and no longer holds the applied commit.
func TestRewindRefusedAfterReclone(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	first := h.commitSigned(nil, "", "first")
	second := h.commitSigned(nil, "", "second")
	a := h.newAgent(nil)
	mustSync(t, a)
	pid := appOf(a.Status(), "books").Binaries[0].PID

	sibling := h.commitSigned(nil, first, "rewound")
	if err := os.RemoveAll(filepath.Join(h.dir, "fleet.git")); err != nil {
		t.Fatal(err)
	}
	a.fleet.repo = nil
	expectRefused(t, a, second, sibling, "is not in its history", pid)
}
