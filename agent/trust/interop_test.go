package trust

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/crypto/ssh"
)

// TestRealGitSSHSignature: a commit signed by git itself (gpg.format=ssh, ssh-keygen) is verified, and the same
// commit is refused by an agent that does not list the key.
func TestRealGitSSHSignature(t *testing.T) {
	for _, tool := range []string{"git", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ops", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	repo := filepath.Join(dir, "fleet")
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=ops", "-c", "user.email=ops@example",
			"-c", "gpg.format=ssh", "-c", "user.signingkey=" + key}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	run("init", "-q")
	if err := os.WriteFile(filepath.Join(repo, "fleet.yaml"), []byte("name: t\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("add", "fleet.yaml")
	run("commit", "-q", "-S", "-m", "signed by git")

	r, err := git.PlainOpen(repo)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := r.Head()
	pub, _ := os.ReadFile(key + ".pub")
	trusted, err := Load(Config{SSHAllowedSigners: writeFile(t, "as", []byte("ops@example "+string(pub)))})
	if err != nil {
		t.Fatal(err)
	}
	if err := trusted.Check(r, plumbing.ZeroHash, head.Hash()); err != nil {
		t.Fatalf("git's own SSH signature: %v", err)
	}
	_, other := sshKey(t)
	untrusted, _ := Load(Config{SSHAllowedSigners: writeFile(t, "as2", []byte("ops@example "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other)))+"\n"))})
	refusal(t, untrusted.Check(r, plumbing.ZeroHash, head.Hash()), "not an allowed signer")
}
