package secrets

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/herofleet/herofleet/fleet"
)

// needAge skips nowhere in CI: make test installs Debian's age (Makefile DEBS). Outside CI a missing age fails too,
// since interop is the point of these tests.
func needAge(t *testing.T) {
	t.Helper()
	for _, b := range []string{"age", "age-keygen"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Fatalf("Debian's %s is needed to prove interop (apt-get install -y age): %v", b, err)
		}
	}
}

func run(t *testing.T, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	return out
}

// keygen makes an identity with Debian's age-keygen and returns its file and recipient.
func keygen(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	p := filepath.Join(dir, name+".key")
	run(t, nil, "age-keygen", "-o", p)
	return p, strings.TrimSpace(string(run(t, nil, "age-keygen", "-y", p)))
}

// fleetDir writes an inline fleet; {{name}} placeholders take the given values (recipients made at test time).
func fleetDir(t *testing.T, tree string, vars map[string]string) string {
	t.Helper()
	for k, v := range vars {
		tree = strings.ReplaceAll(tree, "{{"+k+"}}", v)
	}
	dir := t.TempDir()
	for _, f := range txtar.Parse([]byte(tree)).Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const twoTesters = `
-- fleet.yaml --
name: hero
secrets: {recipients: [{{ops}}]}
-- apps/voice.yaml --
name: voice
source: {repo: https://forge.example/voice.git}
build: {command: [make]}
binaries: [{name: voice_server, kind: server, path: bin/voice}]
-- roles/tester.yaml --
preinstalled: [voice]
-- roles/admin.yaml --
preinstalled: []
-- hosts/admin-1.yaml --
role: admin
recipient: {{admin}}
-- hosts/tester-01.yaml --
role: tester
recipient: {{t1}}
-- hosts/tester-02.yaml --
role: tester
recipient: {{t2}}
`

type keys struct{ file, recipient map[string]string }

func makeKeys(t *testing.T, names ...string) keys {
	needAge(t)
	k := keys{file: map[string]string{}, recipient: map[string]string{}}
	dir := t.TempDir()
	for _, n := range names {
		k.file[n], k.recipient[n] = keygen(t, dir, n)
	}
	return k
}

// What herofleet secrets set writes, Debian's age reads with the host's key and with an operator's.
func TestSetIsReadByDebianAge(t *testing.T) {
	k := makeKeys(t, "ops", "admin", "t1", "t2")
	dir := fleetDir(t, twoTesters, k.recipient)
	f, err := LoadFleet(dir)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := Set(f, dir, "tester-01", "voice-token", []byte("s3cret value\n"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, rel)
	for _, who := range []string{"t1", "ops"} {
		if got := run(t, nil, "age", "-d", "-i", k.file[who], file); string(got) != "s3cret value\n" {
			t.Errorf("age -d -i %s.key read %q", who, got)
		}
	}
	cmd := exec.Command("age", "-d", "-i", k.file["t2"], file)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("tester-02's key opened tester-01's secret: %q", out)
	}
	// The repo stays valid and lists the secret by name.
	f, err = LoadFleet(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l := List(f); len(l) != 1 || l[0].Host != "tester-01" || l[0].Name != "voice-token" {
		t.Errorf("List = %+v", l)
	}
}

// What Debian's age writes (armored or binary), Decrypt reads with a host identity in age-keygen's format.
func TestDebianAgeIsReadByDecrypt(t *testing.T) {
	k := makeKeys(t, "host")
	id, err := LoadIdentity(k.file["host"])
	if err != nil {
		t.Fatal(err)
	}
	for _, armor := range []bool{false, true} {
		args := []string{"-r", k.recipient["host"]}
		if armor {
			args = append(args, "-a")
		}
		ct := run(t, []byte("tok-123"), "age", args...)
		if !fleet.IsAgeFile(ct) {
			t.Errorf("armor=%v: IsAgeFile refuses what age wrote: %q", armor, ct[:20])
		}
		got, err := Decrypt(ct, id)
		if err != nil || string(got) != "tok-123" {
			t.Errorf("armor=%v: Decrypt = %q, %v", armor, got, err)
		}
		if armor {
			if got, err := Decrypt(append([]byte("\n  "), ct...), id); err != nil || string(got) != "tok-123" {
				t.Errorf("armored after blank space: Decrypt = %q, %v", got, err)
			}
		}
	}
}

// CreateIdentity writes a 0600 key that age-keygen -y reads, and keeps it on a second call.
func TestCreateIdentityKeepsTheKey(t *testing.T) {
	needAge(t)
	p := filepath.Join(t.TempDir(), "etc", "herofleet", "host.key")
	id, created, err := CreateIdentity(p)
	if err != nil || !created {
		t.Fatalf("CreateIdentity = %v, %v", created, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if got := strings.TrimSpace(string(run(t, nil, "age-keygen", "-y", p))); got != id.Recipient().String() {
		t.Errorf("age-keygen -y = %s, want %s", got, id.Recipient())
	}
	again, created, err := CreateIdentity(p)
	if err != nil || created || again.String() != id.String() {
		t.Errorf("second CreateIdentity replaced the key (created=%v, err=%v)", created, err)
	}
}

// A garbled identity file is refused without repeating its content (it may be a key).
func TestLoadIdentityDoesNotEchoTheKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.key")
	os.WriteFile(p, []byte("AGE-SECRET-KEY-1NOTAKEYATALLQQQ\n"), 0o600)
	_, err := LoadIdentity(p)
	if err == nil || strings.Contains(err.Error(), "NOTAKEY") {
		t.Errorf("LoadIdentity = %v", err)
	}
}

// An identity file that its group or others can read (or write) is refused, as ssh refuses such a private key,
// with the command that fixes it; 0600 and 0400 load.
func TestLoadIdentityRefusesAFileOthersCanRead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "host.key")
	if _, _, err := CreateIdentity(p); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadIdentity(p); err == nil || !strings.Contains(err.Error(), "chmod 600 "+p) {
			t.Errorf("mode %#o: LoadIdentity = %v", mode, err)
		}
		if _, _, err := CreateIdentity(p); err == nil || !strings.Contains(err.Error(), "chmod 600 "+p) {
			t.Errorf("mode %#o: CreateIdentity = %v", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		os.Chmod(p, mode)
		if _, err := LoadIdentity(p); err != nil {
			t.Errorf("mode %#o: %v", mode, err)
		}
	}
}

// After a host's key is replaced, rekey with an operator's identity makes its secrets readable by the new key.
func TestRekeyAfterRecipientChange(t *testing.T) {
	k := makeKeys(t, "ops", "admin", "t1", "t2", "t1new")
	dir := fleetDir(t, twoTesters, k.recipient)
	f, _ := LoadFleet(dir)
	rel, err := Set(f, dir, "tester-01", "pw", []byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	hostFile := filepath.Join(dir, "hosts", "tester-01.yaml")
	os.WriteFile(hostFile, []byte("role: tester\nrecipient: "+k.recipient["t1new"]+"\n"), 0o644)
	f, err = LoadFleet(dir)
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := LoadIdentity(k.file["ops"])
	done, err := Rekey(f, dir, ops)
	if err != nil || len(done) != 1 {
		t.Fatalf("Rekey = %v, %v", done, err)
	}
	if got := run(t, nil, "age", "-d", "-i", k.file["t1new"], filepath.Join(dir, rel)); string(got) != "hunter2" {
		t.Errorf("new key reads %q", got)
	}
	f, _ = LoadFleet(dir) // the rekeyed ciphertext
	if err := Check(f, ops); err != nil {
		t.Errorf("Check: %v", err)
	}
	t1, _ := LoadIdentity(k.file["t1"])
	if err := Check(f, t1); err == nil || !strings.Contains(err.Error(), rel) {
		t.Errorf("Check with a key that cannot read = %v; want the file named", err)
	}
}
