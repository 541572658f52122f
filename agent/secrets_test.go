package agent

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/secrets"
)

// lineage is the history of the commits of these tests: c1, c2, c3 … each the child of the one before; a commit
// named x… descends from none of them, and one named ?… is not in the clone.
func lineage(ancestor, commit string) (bool, error) {
	for _, c := range []string{ancestor, commit} {
		if strings.HasPrefix(c, "?") {
			return false, errors.New("object not found")
		}
	}
	if strings.HasPrefix(ancestor, "x") != strings.HasPrefix(commit, "x") {
		return false, nil
	}
	return ancestor <= commit, nil
}

// newSecretsDir is a secretsDir of host t1 with its identity, and a function making a fleet commit holding the
// named secrets (each value its name) encrypted to it.
func newSecretsDir(t *testing.T) (*secretsDir, func(commit string, names ...string) *fleet.Fleet) {
	t.Helper()
	base := t.TempDir()
	idFile := filepath.Join(base, "host.key")
	id, _, err := secrets.CreateIdentity(idFile)
	if err != nil {
		t.Fatal(err)
	}
	s := &secretsDir{dir: filepath.Join(base, "secrets"), identityFile: idFile, host: "t1", log: testLogger(t), isAncestor: lineage}
	commit := func(commit string, names ...string) *fleet.Fleet {
		f := &fleet.Fleet{Commit: commit}
		for _, n := range names {
			data, err := secrets.Encrypt([]byte(n), []string{id.Recipient().String()})
			if err != nil {
				t.Fatal(err)
			}
			f.Secrets = append(f.Secrets, fleet.SecretFile{File: fleet.SecretPath("t1", n), Host: "t1", Name: n, Data: data})
		}
		return f
	}
	return s, commit
}

// A secret whose removal fails once stays listed as the agent's, so the next write removes it: the managed list
// shrinks only after the removal.
func TestSecretRemovalThatFailsOnceIsRetried(t *testing.T) {
	s, commit := newSecretsDir(t)
	if err := s.write(commit("c1", "keep", "token"), true); err != nil {
		t.Fatal(err)
	}
	// The removal fails: a folder that is not empty stands where the secret was.
	token := filepath.Join(s.dir, "token")
	if err := os.Remove(token); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(token, "stuck"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.write(commit("c2", "keep"), true); err == nil {
		t.Fatal("a failed removal was not an error")
	}
	if !slices.Contains(s.managed(), "token") {
		t.Errorf("after a failed removal the managed list is %q: the secret would stay for ever", s.managed())
	}
	// It can be removed now: the next write of the same commit does.
	if err := os.Remove(filepath.Join(token, "stuck")); err != nil {
		t.Fatal(err)
	}
	if err := s.write(commit("c2", "keep"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(token); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the removed secret is still there: %v", err)
	}
	if got := s.managed(); !slices.Equal(got, []string{"keep"}) {
		t.Fatalf("managed list %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(s.dir, "keep")); err != nil || string(b) != "keep" {
		t.Fatalf("keep: %q %v", b, err)
	}
}

// A host identity that others can read is refused: the commit's secrets are not written and the reason says how
// to fix the file.
func TestSecretIdentityReadableByOthersIsRefused(t *testing.T) {
	s, commit := newSecretsDir(t)
	if err := os.Chmod(s.identityFile, 0o644); err != nil {
		t.Fatal(err)
	}
	err := s.write(commit("c1", "token"), true)
	var bad *undecryptable
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "chmod 600 "+s.identityFile) {
		t.Fatalf("write = %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "token")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a secret was written with a readable identity: %v", err)
	}
}

// The secrets dir records the commit whose secrets it holds, and an agent never writes an older commit's over a
// newer one's, even once restarted (a new secretsDir on the same dir): a revoked secret does not come back. A commit
// converged again (not a new head) whose order to the recorded one cannot be told (another history, a commit not
// in the clone) leaves what is there; a new head of another history is the fleet's now and is written, one that
// went back (an ancestor of the recorded commit) is not.
func TestSecretsOfAnOlderCommitDoNotOverwriteANewerOnes(t *testing.T) {
	s, commit := newSecretsDir(t)
	if err := s.write(commit("c1", "token"), true); err != nil {
		t.Fatal(err)
	}
	if err := s.write(commit("c2"), true); err != nil { // the token is revoked
		t.Fatal(err)
	}
	record := func() string {
		b, _ := os.ReadFile(filepath.Join(s.dir, commitFile))
		return string(b)
	}
	if r := record(); r != "c2\n" {
		t.Fatalf("commit file %q, want c2", r)
	}
	token := filepath.Join(s.dir, "token")
	for _, c := range []struct {
		commit string
		fresh  bool
	}{{"c1", false}, {"x1", false}, {"?1", false}, {"c1", true}} {
		restarted := &secretsDir{dir: s.dir, identityFile: s.identityFile, host: s.host, log: s.log, isAncestor: lineage}
		if err := restarted.write(commit(c.commit, "token"), c.fresh); err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if _, err := os.Stat(token); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the secrets of %+v were written over c2's: the revoked token is back (%v)", c, err)
		}
		if !restarted.holds(c.commit) {
			t.Errorf("%+v: kept, yet not held: it would be tried again at every sync", c)
		}
		if r := record(); r != "c2\n" {
			t.Fatalf("%+v: commit file %q, want c2", c, r)
		}
	}
	// A newer commit writes its secrets, and is recorded; so does a new head of another history.
	for _, c := range []string{"c3", "x1"} {
		if err := s.write(commit(c, "token", c), true); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(s.dir, c)); string(b) != c {
			t.Fatalf("%s's secret %q", c, b)
		}
		if r := record(); r != c+"\n" {
			t.Fatalf("commit file %q, want %s", r, c)
		}
	}
}
