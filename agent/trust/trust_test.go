package trust

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// sshSigner signs commits the way `git commit -S` with gpg.format=ssh does.
type sshSigner struct{ s ssh.Signer }

func (g sshSigner) Sign(m io.Reader) ([]byte, error) {
	sig, err := sshsig.Sign(m, g.s, sshsig.HashSHA512, "git")
	if err != nil {
		return nil, err
	}
	return sshsig.Armor(sig), nil
}

type repoT struct {
	t    *testing.T
	repo *git.Repository
	n    int
}

func newRepo(t *testing.T) *repoT {
	r, err := git.Init(memory.NewStorage(), memfs.New())
	if err != nil {
		t.Fatal(err)
	}
	return &repoT{t: t, repo: r}
}

// commit adds a commit on the current branch, signed as opts says.
func (r *repoT) commit(opts git.CommitOptions) plumbing.Hash {
	r.t.Helper()
	wt, _ := r.repo.Worktree()
	r.n++
	f, _ := wt.Filesystem.Create("fleet.yaml")
	f.Write([]byte("name: t\n# " + strings.Repeat("x", r.n) + "\n"))
	f.Close()
	wt.Add("fleet.yaml")
	opts.Author = &object.Signature{Name: "ops", Email: "ops@example", When: time.Unix(int64(1e9+r.n), 0)}
	h, err := wt.Commit("change", &opts)
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

func writeFile(t *testing.T, name string, data []byte) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pgpKey(t *testing.T, name string) (*openpgp.Entity, string) {
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
	return e, writeFile(t, name+".asc", buf.Bytes())
}

func sshKey(t *testing.T) (ssh.Signer, ssh.PublicKey) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, s.PublicKey()
}

func refusal(t *testing.T, err error, want string) {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) || !strings.Contains(r.Reason, want) {
		t.Fatalf("want a refusal with %q, got %v", want, err)
	}
}

func TestOpenPGPSignedCommits(t *testing.T) {
	ops, opsFile := pgpKey(t, "ops")
	other, otherFile := pgpKey(t, "other")
	_ = other
	p, err := Load(Config{OpenPGPKeys: []string{otherFile, opsFile}})
	if err != nil {
		t.Fatal(err)
	}
	r := newRepo(t)
	signed := r.commit(git.CommitOptions{SignKey: ops})
	if err := p.Check(r.repo, plumbing.ZeroHash, signed); err != nil {
		t.Fatalf("a commit signed by a trusted key (the second key file) is applied: %v", err)
	}
	unsigned := r.commit(git.CommitOptions{})
	refusal(t, p.Check(r.repo, signed, unsigned), "unsigned")

	stranger, _ := pgpKey(t, "stranger")
	byStranger := r.commit(git.CommitOptions{SignKey: stranger})
	refusal(t, p.Check(r.repo, signed, byStranger), "by no trusted key")
}

func TestSSHSignedCommits(t *testing.T) {
	s, pub := sshKey(t)
	other, _ := sshKey(t)
	signers := "# ops team\nops@example namespaces=\"git\" " + string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(pub))) + " laptop\n"
	p, err := Load(Config{SSHAllowedSigners: writeFile(t, "allowed_signers", []byte(signers))})
	if err != nil {
		t.Fatal(err)
	}
	r := newRepo(t)
	good := r.commit(git.CommitOptions{Signer: sshSigner{s}})
	if err := p.Check(r.repo, plumbing.ZeroHash, good); err != nil {
		t.Fatalf("signed by an allowed signer: %v", err)
	}
	c, _ := r.repo.CommitObject(good)
	if who, _ := p.Signer(c); who != "ssh:ops@example" {
		t.Errorf("signer %q", who)
	}
	bad := r.commit(git.CommitOptions{Signer: sshSigner{other}})
	refusal(t, p.Check(r.repo, good, bad), "not an allowed signer")

	// A signature made for another namespace must not pass as a git signature.
	file := r.commit(git.CommitOptions{Signer: signerFunc(func(m io.Reader) ([]byte, error) {
		sig, err := sshsig.Sign(m, s, sshsig.HashSHA512, "file")
		if err != nil {
			return nil, err
		}
		return sshsig.Armor(sig), nil
	})})
	refusal(t, p.Check(r.repo, good, file), `namespace "file"`)
}

type signerFunc func(io.Reader) ([]byte, error)

func (f signerFunc) Sign(m io.Reader) ([]byte, error) { return f(m) }

func TestStrictModeChecksEveryCommitSinceApplied(t *testing.T) {
	ops, opsFile := pgpKey(t, "ops")
	r := newRepo(t)
	base := r.commit(git.CommitOptions{SignKey: ops})
	sneaky := r.commit(git.CommitOptions{})
	head := r.commit(git.CommitOptions{SignKey: ops})

	headOnly, _ := Load(Config{OpenPGPKeys: []string{opsFile}, Mode: ModeHead})
	if err := headOnly.Check(r.repo, base, head); err != nil {
		t.Fatalf("head mode checks only the commit applied: %v", err)
	}
	strict, _ := Load(Config{OpenPGPKeys: []string{opsFile}, Mode: ModeStrict})
	refusal(t, strict.Check(r.repo, base, head), "commit "+sneaky.String()[:12]+" since the applied one: unsigned")
	if err := strict.Check(r.repo, plumbing.ZeroHash, head); err != nil {
		t.Fatalf("on a first sync, strict checks HEAD only: %v", err)
	}
}

func TestRewindIsRefusedUnlessAllowed(t *testing.T) {
	r := newRepo(t)
	first := r.commit(git.CommitOptions{})
	second := r.commit(git.CommitOptions{})
	p, _ := Load(Config{})
	if err := p.Check(r.repo, first, second); err != nil {
		t.Fatalf("a descendant is fine: %v", err)
	}
	refusal(t, p.Check(r.repo, second, first), "does not descend from the applied commit")

	// A force-push: a sibling of the applied commit.
	wt, _ := r.repo.Worktree()
	if err := wt.Reset(&git.ResetOptions{Commit: first, Mode: git.HardReset}); err != nil {
		t.Fatal(err)
	}
	sibling := r.commit(git.CommitOptions{})
	refusal(t, p.Check(r.repo, second, sibling), "force-push or rewind")
	allow, _ := Load(Config{AllowRewind: true})
	if err := allow.Check(r.repo, second, sibling); err != nil {
		t.Fatalf("allow_rewind accepts it: %v", err)
	}
}

func TestLoadRefusesBadKeys(t *testing.T) {
	for name, c := range map[string]Config{
		"missing file":   {OpenPGPKeys: []string{"/nonexistent/key.asc"}},
		"not a key":      {OpenPGPKeys: []string{writeFile(t, "k.asc", []byte("hello"))}},
		"bad signers":    {SSHAllowedSigners: writeFile(t, "as", []byte("ops@example ssh-ed25519 AAAAnotbase64\n"))},
		"cert authority": {SSHAllowedSigners: writeFile(t, "as2", []byte("*@example cert-authority ssh-ed25519 AAAA\n"))},
		"strict no keys": {Mode: ModeStrict},
		"unknown mode":   {Mode: "lenient"},
	} {
		if _, err := Load(c); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}
