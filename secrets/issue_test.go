package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func issue(t *testing.T, dir string, revoke ...string) IssueResult {
	t.Helper()
	f, err := LoadFleet(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Issue(f, dir, IssueOptions{Name: "voice-token", Role: "tester", For: "admin-1", Revoke: revoke})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFleet(dir); err != nil {
		t.Fatalf("the fleet after issue is invalid: %v", err)
	}
	return res
}

// ageRead decrypts a fleet file with Debian's age and a key of the test.
func ageRead(t *testing.T, key, file string) string {
	t.Helper()
	return string(run(t, nil, "age", "-d", "-i", key, file))
}

// Issue hands each tester its own token and the engine exactly their sha256; a second run changes nothing; a new
// tester gets a token at the next run; a revoked tester loses its token for good.
func TestIssueTokensPerTester(t *testing.T) {
	k := makeKeys(t, "ops", "admin", "t1", "t2", "t3")
	dir := fleetDir(t, twoTesters, k.recipient)
	res := issue(t, dir)
	if !slices.Equal(res.Issued, []string{"tester-01", "tester-02"}) {
		t.Fatalf("issued %v", res.Issued)
	}
	hashesFile := filepath.Join(dir, "secrets/admin-1/voice-token-hashes.age")
	engine := ageRead(t, k.file["admin"], hashesFile)
	tokens := map[string]string{}
	for host, key := range map[string]string{"tester-01": "t1", "tester-02": "t2"} {
		tok := ageRead(t, k.file[key], filepath.Join(dir, "secrets", host, "voice-token.age"))
		if len(tok) != 64 {
			t.Errorf("%s token is %d chars", host, len(tok))
		}
		sum := sha256.Sum256([]byte(tok))
		if !strings.Contains(engine, hex.EncodeToString(sum[:])+" "+host+"\n") {
			t.Errorf("engine's hashes lack %s's token:\n%s", host, engine)
		}
		if strings.Contains(engine, tok) {
			t.Errorf("engine's list holds a token in clear")
		}
		tokens[host] = tok
	}
	if tokens["tester-01"] == tokens["tester-02"] {
		t.Error("two testers share a token")
	}

	before, _ := os.ReadFile(hashesFile)
	if res := issue(t, dir); res.Changed {
		t.Errorf("a second run changed the fleet: %+v", res)
	}
	if after, _ := os.ReadFile(hashesFile); string(after) != string(before) {
		t.Error("a second run rewrote the engine's hashes")
	}

	os.WriteFile(filepath.Join(dir, "hosts/tester-03.yaml"), []byte("role: tester\nrecipient: "+k.recipient["t3"]+"\n"), 0o644)
	if res := issue(t, dir); !slices.Equal(res.Issued, []string{"tester-03"}) {
		t.Errorf("a new tester: issued %v", res.Issued)
	}
	if tok := ageRead(t, k.file["t1"], filepath.Join(dir, "secrets/tester-01/voice-token.age")); tok != tokens["tester-01"] {
		t.Error("tester-01's token changed when tester-03 joined")
	}

	if res := issue(t, dir, "tester-02"); !slices.Equal(res.Revoked, []string{"tester-02"}) {
		t.Errorf("revoked %v", res.Revoked)
	}
	if _, err := os.Stat(filepath.Join(dir, "secrets/tester-02/voice-token.age")); !os.IsNotExist(err) {
		t.Errorf("revoked tester keeps its token file: %v", err)
	}
	engine = ageRead(t, k.file["admin"], hashesFile)
	if strings.Contains(engine, "tester-02") || strings.Count(engine, "\n") != 2 {
		t.Errorf("engine's hashes after revoking tester-02:\n%s", engine)
	}
	if res := issue(t, dir); res.Changed {
		t.Errorf("the run after a revoke re-issued: %+v", res)
	}
}

// Issue needs no identity: it refuses an engine host without a recipient, and skips testers without one.
func TestIssueRefusesEngineWithoutRecipient(t *testing.T) {
	k := makeKeys(t, "ops", "admin", "t1", "t2")
	k.recipient["admin"] = k.recipient["admin"] + "\n# no recipient below"
	dir := fleetDir(t, strings.Replace(twoTesters, "recipient: {{admin}}\n", "", 1), k.recipient)
	f, err := LoadFleet(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Issue(f, dir, IssueOptions{Name: "voice-token", Role: "tester", For: "admin-1"})
	if err == nil || !strings.Contains(err.Error(), "no recipient") {
		t.Errorf("Issue = %v", err)
	}
}

// A tester that lost its recipient and its token file keeps no valid hash: nobody holds a token that should open
// the engine. It is issued a new token once it has a recipient again.
func TestIssueDropsTheHashOfATesterWithoutRecipientOrToken(t *testing.T) {
	k := makeKeys(t, "ops", "admin", "t1", "t2")
	dir := fleetDir(t, twoTesters, k.recipient)
	issue(t, dir)
	indexFile := filepath.Join(dir, "secrets/admin-1/voice-token-hashes.sha256")
	if b, _ := os.ReadFile(indexFile); !strings.Contains(string(b), " tester-02\n") {
		t.Fatalf("no hash for tester-02 to drop:\n%s", b)
	}

	// tester-02 is re-provisioned: its host file loses the recipient, its token file goes.
	os.WriteFile(filepath.Join(dir, "hosts/tester-02.yaml"), []byte("role: tester\n"), 0o644)
	os.Remove(filepath.Join(dir, "secrets/tester-02/voice-token.age"))
	res := issue(t, dir)
	if !res.Changed || !slices.Equal(res.Dropped, []string{"tester-02"}) || !slices.Equal(res.Skipped, []string{"tester-02"}) {
		t.Fatalf("result %+v", res)
	}
	if b, _ := os.ReadFile(indexFile); strings.Contains(string(b), "tester-02") {
		t.Errorf("the index keeps tester-02's hash:\n%s", b)
	}
	if engine := ageRead(t, k.file["admin"], filepath.Join(dir, "secrets/admin-1/voice-token-hashes.age")); strings.Contains(engine, "tester-02") ||
		!strings.Contains(engine, " tester-01\n") {
		t.Errorf("the engine's hashes:\n%s", engine)
	}
	if res := issue(t, dir); res.Changed {
		t.Errorf("the next run changed the fleet: %+v", res)
	}

	os.WriteFile(filepath.Join(dir, "hosts/tester-02.yaml"), []byte("role: tester\nrecipient: "+k.recipient["t2"]+"\n"), 0o644)
	if res := issue(t, dir); !slices.Equal(res.Issued, []string{"tester-02"}) {
		t.Errorf("tester-02 with a recipient again: issued %v", res.Issued)
	}
}
