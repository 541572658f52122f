package security

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/secrets"
)

// hostFleet is an empty fleet whose host t1 (the agent's) has the recipient {{recipient}}.
const hostFleet = `
-- fleet.yaml --
name: security
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: []
-- hosts/t1.yaml --
role: tester
recipient: {{recipient}}
`

// ageEncrypt encrypts value to recipient with Debian's age, as an operator without herofleet would.
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

// identity makes an age identity file (0600) in a dir of its own and returns its path and recipient.
func identity(t *testing.T) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "host.key")
	id, _, err := secrets.CreateIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, id.Recipient().String()
}

// refused waits until the agent refused the fleet's newest commit and returns the refusal's reason.
func (p *proc) refused() string {
	p.t.Helper()
	st := p.waitFleet("the commit refused", func(st agent.Status) bool { return len(st.Refused) > 0 })
	return st.Refused[len(st.Refused)-1].Reason
}

// The agent writes its secrets 0600 in a 0700 dir even when started under umask 000, through a rename, and no
// value reaches anything but the secrets dir.
func TestSecretFileModes(t *testing.T) {
	key, rcp := identity(t)
	values := map[string]string{"db": "db-pass-9f3e1", "token": "tok-77c2d0"}
	fleet := hostFleet
	for n, v := range values {
		fleet += "-- secrets/t1/" + n + ".age --\n" + ageEncrypt(t, rcp, v)
	}
	old := syscall.Umask(0) // the agent inherits it: its modes must not depend on the umask it was given
	p := startAgent(t, fleet, agenttest.Vars{"recipient": rcp}, options{identity: key})
	syscall.Umask(old)
	p.waitFleet("the fleet applied", func(st agent.Status) bool { return st.Fleet.Commit != "" })
	var modes []string
	dirInfo, err := os.Stat(p.secrets)
	if err != nil {
		t.Fatal(err)
	}
	if dirInfo.Mode().Perm() != 0o700 {
		t.Errorf("secrets dir mode %04o", dirInfo.Mode().Perm())
	}
	entries, _ := os.ReadDir(p.secrets)
	for _, e := range entries {
		info, _ := e.Info()
		modes = append(modes, fmt.Sprintf("%s %04o", e.Name(), info.Mode().Perm()))
		if info.Mode().Perm() != 0o600 || strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("%s: mode %04o", e.Name(), info.Mode().Perm())
		}
	}
	for n, v := range values {
		if b, err := os.ReadFile(filepath.Join(p.secrets, n)); err != nil || string(b) != v {
			t.Errorf("secret %s: %q %v", n, b, err)
		}
	}
	sort.Strings(modes)
	var vs []string
	for _, v := range values {
		vs = append(vs, v)
	}
	record(t, Row{
		Attack: "secrets on the VM: another user reads them",
		Sent:   "a fleet commit with two secrets of the agent's host (age -a -r, Debian's age); the agent started under umask 000",
		Did:    "wrote each value through a temp file and a rename, 0600, in a secrets dir it made 0700; no temp file left",
		Figure: fmt.Sprintf("secrets dir %04o; %s", dirInfo.Mode().Perm(), strings.Join(modes, ", ")),
		Leaked: leaked(p.leaks(vs...)),
	})
}

// An identity file others can read is refused by the agent and by the CLI, with the fix; the key never shows.
func TestIdentityReadableByOthers(t *testing.T) {
	key, rcp := identity(t)
	keyText, _ := os.ReadFile(key)
	priv := strings.TrimSpace(string(keyText[strings.Index(string(keyText), "AGE-SECRET-KEY-"):]))
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	p := startAgent(t, hostFleet+"-- secrets/t1/db.age --\n"+ageEncrypt(t, rcp, "db-pass-0644"), agenttest.Vars{"recipient": rcp}, options{identity: key})
	reason := p.refused()
	if !strings.Contains(reason, "chmod 600") {
		t.Errorf("refusal %q does not give the fix", reason)
	}
	if _, err := os.Stat(filepath.Join(p.secrets, "db")); err == nil {
		t.Errorf("the secret was written with a world-readable identity")
	}
	code, out, errOut, _ := cli(t, nil, "recipient", "--identity", key)
	if code == 0 || !strings.Contains(errOut, "chmod 600") {
		t.Errorf("recipient --identity on a 0644 key: exit %d %s%s", code, out, errOut)
	}
	found := p.leaks(priv, "db-pass-0644")
	if strings.Contains(out+errOut, priv) {
		found = append(found, "the key in recipient's output")
	}
	record(t, Row{
		Attack: "an age identity file its group or others can read",
		Sent:   "the agent's identity_file chmod 0644, and a fleet commit with a secret for it; `herofleet recipient --identity` on the same file",
		Did:    "the agent refused the commit, wrote no secret and said why with the fix; the CLI refused the key too",
		Figure: fmt.Sprintf("refusal: %q; recipient: exit %d", reason, code),
		Leaked: leaked(found),
	})
}

// A value committed in clear after an age header never reaches a reason: not the agent's status, log or metrics,
// not validate --identity's nor secrets rekey's output.
func TestPlaintextAfterAgeHeader(t *testing.T) {
	const password = "hunter2-s3cr3t-77"
	key, rcp := identity(t)
	bad := "age-encryption.org/v1\nDB_PASSWORD=" + password + "\n"
	p := startAgent(t, hostFleet+"-- secrets/t1/db.age --\n"+bad, agenttest.Vars{"recipient": rcp}, options{identity: key})
	reason := p.refused()
	if !strings.Contains(reason, "secrets/t1/db.age") || !strings.Contains(reason, "malformed header") {
		t.Errorf("refusal %q", reason)
	}
	found := p.leaks(password, "DB_PASSWORD")

	// The CLI on the same fleet as a directory, with an operator's key.
	dir := fleetDir(t, map[string]string{
		"fleet.yaml":        "name: security\nsecrets: {recipients: [" + rcp + "]}\n",
		"roles/tester.yaml": "preinstalled: []\n",
		"hosts/t1.yaml":     "role: tester\nrecipient: " + rcp + "\n",
		"secrets/t1/db.age": bad,
	})
	var cliFig []string
	for _, args := range [][]string{{"validate", "--identity", key, dir}, {"secrets", "rekey", "--identity", key, dir}} {
		code, out, errOut, _ := cli(t, nil, args...)
		if code == 0 {
			t.Errorf("%s: exit 0", strings.Join(args[:2], " "))
		}
		for _, v := range []string{password, "DB_PASSWORD"} {
			if strings.Contains(out+errOut, v) {
				found = append(found, fmt.Sprintf("%q in %s's output", v, args[0]+" "+args[1]))
			}
		}
		cliFig = append(cliFig, fmt.Sprintf("`%s %s` exit %d: %q", args[0], args[1], code, oneLine(out+errOut, "db.age")))
	}
	record(t, Row{
		Attack: "a secret committed in clear after an age header",
		Sent:   "`secrets/t1/db.age` = `age-encryption.org/v1` then `DB_PASSWORD=<value>` in clear (age's own parse error quotes that line)",
		Did:    "the agent refused the commit naming the file and the class of error, never a byte of it; validate --identity and secrets rekey refused it the same way",
		Figure: fmt.Sprintf("agent: %q; %s", reason, strings.Join(cliFig, "; ")),
		Leaked: leaked(found),
	})
}

// A plaintext dotfile under secrets/ is refused by validate (directory) and by the agent (commit), never echoed.
func TestDotfileUnderSecrets(t *testing.T) {
	const value = "API_KEY=sk-live-0d15ea5e"
	key, rcp := identity(t)
	files := map[string]string{
		"fleet.yaml":        "name: security\nsync: {schedule: \"@every 1h\"}\n",
		"roles/tester.yaml": "preinstalled: []\n",
		"hosts/t1.yaml":     "role: tester\nrecipient: " + rcp + "\n",
		"secrets/t1/.env":   value + "\n",
	}
	code, out, errOut, _ := cli(t, nil, "validate", fleetDir(t, files))
	if code != 1 || !strings.Contains(out+errOut, "secrets/t1/.env") {
		t.Errorf("validate with secrets/t1/.env: exit %d\n%s%s", code, out, errOut)
	}
	var found []string
	if strings.Contains(out+errOut, "sk-live") {
		found = append(found, "the value in validate's output")
	}
	var archive strings.Builder
	for name, data := range files {
		archive.WriteString("-- " + name + " --\n" + data)
	}
	p := startAgent(t, archive.String(), nil, options{identity: key})
	reason := p.refused()
	if !strings.Contains(reason, ".env") {
		t.Errorf("refusal %q", reason)
	}
	found = append(found, p.leaks("sk-live-0d15ea5e")...)
	entries, _ := os.ReadDir(p.secrets)
	if len(entries) > 0 {
		t.Errorf("the secrets dir holds %d entries", len(entries))
	}
	record(t, Row{
		Attack: "a plaintext dotfile under secrets/",
		Sent:   "`secrets/t1/.env` holding `API_KEY=<value>` in clear: in a fleet directory given to validate, and in a fleet commit given to the agent",
		Did:    "validate refused it (exit 1, the file named); the agent refused the commit and wrote nothing to its secrets dir",
		Figure: fmt.Sprintf("validate: %q; agent: %q", oneLine(out+errOut, ".env"), reason),
		Leaked: leaked(found),
	})
}

// fleetDir writes files into a fresh directory and returns it.
func fleetDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		write(t, filepath.Join(dir, filepath.FromSlash(name)), data, 0o644)
	}
	return dir
}
