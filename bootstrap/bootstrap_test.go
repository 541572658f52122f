package bootstrap

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/packaging"
)

func options(root string) *Options {
	return &Options{Fleet: "https://forge.example/ops/hero-fleet.git", Role: "tester", Host: "tester-07", Root: root}
}

func actions(cs []Change) map[string]Action {
	m := map[string]Action{}
	for _, c := range cs {
		m[c.Path] = c.Action
	}
	return m
}

func TestWriteTwiceChangesNothingTheSecondTime(t *testing.T) {
	root := t.TempDir()
	first, err := Write(options(root))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range first {
		if c.Action != Created {
			t.Errorf("first run: %s %s, want created", c.Action, c.Path)
		}
	}
	modes := map[string]os.FileMode{
		EtcDir: 0o755, SecretsDir: 0o700, StateDir: 0o700, PluginsDir: 0o755,
		ConfigPath: 0o644, TokenPath: 0o600, IdentityPath: 0o600, UnitPath: 0o644, ZinitPath: 0o644,
	}
	for p, want := range modes {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", p, fi.Mode().Perm(), want)
		}
	}
	token := read(t, root, TokenPath)
	if len(strings.TrimSpace(token)) != 64 {
		t.Errorf("token %q: want 64 hex digits", token)
	}

	second, err := Write(options(root))
	if err != nil {
		t.Fatal(err)
	}
	if Changed(second) {
		t.Errorf("second run changed something: %+v", second)
	}
	if len(second) != len(first) {
		t.Errorf("second run reports %d paths, first %d", len(second), len(first))
	}
	if got := read(t, root, TokenPath); got != token {
		t.Errorf("second run replaced the token")
	}
}

func TestConfigLoadsWithTheAgentsLoader(t *testing.T) {
	root := t.TempDir()
	o := options(root)
	o.Address = "[4a5:1c2::7]"
	o.Ref = "stable"
	o.Rewrite = map[string]string{"https://forge.ourworld.tf/": "http://127.0.0.1:8080/"}
	if _, err := Write(o); err != nil {
		t.Fatal(err)
	}
	c, err := agent.LoadConfig(filepath.Join(root, ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	want := agent.FleetRepo{Repo: o.Fleet, Ref: "stable"}
	if c.Fleet != want || c.Host != "tester-07" || c.Role != "tester" || c.Address != o.Address {
		t.Errorf("config = %+v", c)
	}
	if c.Dir != StateDir || c.Listen != Listen || c.TokenFile != TokenPath || c.IdentityFile != IdentityPath || c.PluginsDir != PluginsDir || c.SecretsDir != SecretsDir {
		t.Errorf("config paths = %+v", c)
	}
	if got := c.RewriteURL("https://forge.ourworld.tf/x.git"); got != "http://127.0.0.1:8080/x.git" {
		t.Errorf("rewrite gave %q", got)
	}
}

func TestChangedFlagRewritesTheConfigAndSaysWhat(t *testing.T) {
	root := t.TempDir()
	if _, err := Write(options(root)); err != nil {
		t.Fatal(err)
	}
	token := read(t, root, TokenPath)
	o := options(root)
	o.Role = "admin"
	cs, err := Write(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		switch {
		case c.Path == ConfigPath:
			if c.Action != Updated || !slices.Equal(c.Details, []string{"role: tester -> admin"}) {
				t.Errorf("config: %s %q", c.Action, c.Details)
			}
		case c.Action != Unchanged:
			t.Errorf("%s %s: only the config should change", c.Action, c.Path)
		}
	}
	if read(t, root, TokenPath) != token {
		t.Error("the token changed")
	}
}

// TestMetricsListenIsWhereTheFleetLooks: with --address the agent's read-only listener is the address on the
// fleet's agent port, exactly the URL herofleet prometheus targets and fleet status use for a host file with that
// address (fleet.AgentURL), whatever form the address takes; without --address there is none.
func TestMetricsListenIsWhereTheFleetLooks(t *testing.T) {
	for _, tc := range []struct{ address, want string }{
		{"[fd5a:1c2:9e3::7]", "[fd5a:1c2:9e3::7]:7072"},
		{"fd5a:1c2:9e3::7", "[fd5a:1c2:9e3::7]:7072"},
		{"10.0.0.7", "10.0.0.7:7072"},
		{"127.0.0.1", "127.0.0.1:7072"},
		{"tester-07.lan", "tester-07.lan:7072"},
		{"tester-07", "tester-07:7072"},
		{"", ""},
	} {
		t.Run(tc.address, func(t *testing.T) {
			root := t.TempDir()
			o := options(root)
			o.Address = tc.address
			if _, err := Write(o); err != nil {
				t.Fatal(err)
			}
			c, err := agent.LoadConfig(filepath.Join(root, ConfigPath))
			if err != nil {
				t.Fatal(err)
			}
			if c.MetricsListen != tc.want {
				t.Errorf("metrics_listen %q, want %q", c.MetricsListen, tc.want)
			}
			text := read(t, root, ConfigPath)
			if has := strings.Contains(text, "\nmetrics_listen:"); has != (tc.want != "") {
				t.Errorf("metrics_listen written: %v, want %v:\n%s", has, tc.want != "", text)
			}
			if tc.address == "" {
				return
			}
			if url := fleet.AgentURL(o.Host, &fleet.Host{Address: tc.address}); url != "http://"+c.MetricsListen {
				t.Errorf("fleet tools look at %s, the agent listens on %s", url, c.MetricsListen)
			}
			if !strings.HasSuffix(c.MetricsListen, ":"+fleet.DefaultAgentPort) {
				t.Errorf("metrics_listen %q is not on the fleet's agent port %s", c.MetricsListen, fleet.DefaultAgentPort)
			}
			// In a new config it follows listen, in bootstrap's order.
			if i, j := strings.Index(text, "\nlisten:"), strings.Index(text, "\nmetrics_listen:"); i < 0 || j < i {
				t.Errorf("metrics_listen not after listen:\n%s", text)
			}
		})
	}
}

// TestChangedAddressMovesMetricsListen: a changed --address rewrites metrics_listen with it and says so; a run
// without --address removes it; a config written before bootstrap owned metrics_listen (address, no listener: the
// VM the fleet never scraped) gets it on the next run, named as added, and the agent restarts.
func TestChangedAddressMovesMetricsListen(t *testing.T) {
	root := t.TempDir()
	o := options(root)
	o.Address = "10.0.0.7"
	if _, err := Write(o); err != nil {
		t.Fatal(err)
	}
	configChange := func(o *Options) Change {
		t.Helper()
		cs, err := Write(o)
		if err != nil {
			t.Fatal(err)
		}
		var got Change
		for _, c := range cs {
			switch {
			case c.Path == ConfigPath:
				got = c
			case c.Action != Unchanged:
				t.Errorf("%s %s: only the config should change", c.Action, c.Path)
			}
		}
		return got
	}
	check := func(what string, c Change, want ...string) {
		t.Helper()
		if c.Action != Updated || !slices.Equal(c.Details, want) {
			t.Errorf("%s: config %s %q, want updated %q", what, c.Action, c.Details, want)
		}
	}

	o.Address = "10.0.0.8"
	check("changed IPv4", configChange(o), "address: 10.0.0.7 -> 10.0.0.8", "metrics_listen: 10.0.0.7:7072 -> 10.0.0.8:7072")
	o.Address = "[fd5a:1c2:9e3::7]"
	check("IPv4 to IPv6", configChange(o), "address: 10.0.0.8 -> '[fd5a:1c2:9e3::7]'",
		"metrics_listen: 10.0.0.8:7072 -> '[fd5a:1c2:9e3::7]:7072'")
	// The same address without brackets: the address is written as given, the listener is the same.
	o.Address = "fd5a:1c2:9e3::7"
	check("unbracketed", configChange(o), "address: '[fd5a:1c2:9e3::7]' -> fd5a:1c2:9e3::7")
	o.Address = ""
	check("no --address", configChange(o), "address removed (was fd5a:1c2:9e3::7)",
		"metrics_listen removed (was '[fd5a:1c2:9e3::7]:7072')")
	o.Address = "tester-07.lan"
	check("a name again", configChange(o), "address: tester-07.lan (added)", "metrics_listen: tester-07.lan:7072 (added)")
	if c := configChange(o); c.Action != Unchanged {
		t.Errorf("the same flags again: config %s %q", c.Action, c.Details)
	}

	// A config from before: address, but no metrics_listen.
	cfg := filepath.Join(root, ConfigPath)
	var kept []string
	for _, l := range strings.SplitAfter(read(t, root, ConfigPath), "\n") {
		if !strings.HasPrefix(l, "metrics_listen:") {
			kept = append(kept, l)
		}
	}
	if err := os.WriteFile(cfg, []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	cs, err := Write(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Path == ConfigPath {
			check("config without metrics_listen", c, "metrics_listen: tester-07.lan:7072 (added)")
		}
	}
	if !strings.Contains(read(t, root, ConfigPath), "\nlisten: 127.0.0.1:7070\nmetrics_listen: tester-07.lan:7072\n") {
		t.Errorf("metrics_listen not added after listen:\n%s", read(t, root, ConfigPath))
	}
	f := &fakeInit{}
	if _, err := Start(context.Background(), "systemd", o, cs, f.run); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(f.ran, "systemctl restart herofleet-agent.service") {
		t.Errorf("the agent was not restarted onto its new listener: ran %q", f.ran)
	}
}

func TestKeysBootstrapDoesNotOwnAreKept(t *testing.T) {
	root := t.TempDir()
	if _, err := Write(options(root)); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(root, ConfigPath)
	edited := read(t, root, ConfigPath) + "# the admin VM's forge reaches us here\nwebhook_listen: \"[4a5::7]:7071\"\n"
	if err := os.WriteFile(cfg, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	cs, err := Write(options(root))
	if err != nil {
		t.Fatal(err)
	}
	if actions(cs)[ConfigPath] != Unchanged {
		t.Errorf("a hand-added key made bootstrap rewrite the config")
	}
	o := options(root)
	o.Host = "tester-08"
	if _, err := Write(o); err != nil {
		t.Fatal(err)
	}
	got := read(t, root, ConfigPath)
	if !strings.Contains(got, "webhook_listen:") || !strings.Contains(got, "# the admin VM's forge") || !strings.Contains(got, "host: tester-08") {
		t.Errorf("config after a changed flag:\n%s", got)
	}
}

func TestLooseModesAreTightened(t *testing.T) {
	root := t.TempDir()
	if _, err := Write(options(root)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{TokenPath, SecretsDir, IdentityPath} {
		if err := os.Chmod(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := Write(options(root))
	if err != nil {
		t.Fatal(err)
	}
	a := actions(cs)
	if a[TokenPath] != Updated || a[SecretsDir] != Updated || a[IdentityPath] != Updated {
		t.Errorf("changes = %+v", cs)
	}
	if fi, _ := os.Stat(filepath.Join(root, TokenPath)); fi.Mode().Perm() != 0o600 {
		t.Errorf("token mode %04o", fi.Mode().Perm())
	}
}

func TestBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no fleet", func(o *Options) { o.Fleet = "" }, "--fleet is required"},
		{"fleet not a git URL", func(o *Options) { o.Fleet = "forge.example/fleet" }, "not a git URL"},
		{"fleet scheme", func(o *Options) { o.Fleet = "ftp://forge.example/fleet.git" }, `scheme "ftp"`},
		{"fleet option injection", func(o *Options) { o.Fleet = "--upload-pack=x" }, "starts with -"},
		{"no role", func(o *Options) { o.Role = "" }, "--role is required"},
		{"bad role", func(o *Options) { o.Role = "Tester" }, `--role "Tester" does not match`},
		{"bad host", func(o *Options) { o.Host = "tester.07" }, `--host "tester.07" does not match`},
		{"bad ref", func(o *Options) { o.Ref = "main..x" }, "not a valid git ref"},
		{"bad bin", func(o *Options) { o.Bin = "/opt/hero fleet/herofleet" }, "would not take literally"},
		{"address with a port", func(o *Options) { o.Address = "10.0.0.7:22" }, `--address "10.0.0.7:22" carries a port (22)`},
		{"bracketed IPv6 with a port", func(o *Options) { o.Address = "[fd5a::7]:22" }, `--address "[fd5a::7]:22" carries a port (22)`},
		{"name with a port", func(o *Options) { o.Address = "tester-07.lan:7072" }, `carries a port (7072)`},
		{"not IPv6", func(o *Options) { o.Address = "fd5a:::7:x" }, "is neither an IPv6 address nor a host name"},
		{"brackets around IPv4", func(o *Options) { o.Address = "[10.0.0.7]" }, "not an IPv6 address"},
		{"unbalanced brackets", func(o *Options) { o.Address = "[fd5a::7" }, "unbalanced brackets"},
		{"address with a path", func(o *Options) { o.Address = "10.0.0.7/24" }, "is not a host name or address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			o := options(root)
			tc.edit(o)
			_, err := Write(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(root, ConfigPath)); err == nil {
				t.Error("a refused bootstrap wrote the config")
			}
		})
	}
}

// On the running system the service's binary must be there; the check runs before anything is written (Check
// writes nothing, so a regression here cannot touch this machine's /etc).
func TestRunningSystemNeedsTheBinary(t *testing.T) {
	o := options("")
	o.Bin = filepath.Join(t.TempDir(), "herofleet")
	if err := o.Check(); err == nil || !strings.Contains(err.Error(), "is not an executable file here") {
		t.Errorf("err %v", err)
	}
	o = options(t.TempDir())
	o.Bin = "/nonexistent/herofleet"
	if err := o.Check(); err != nil {
		t.Errorf("under --root the binary need not exist: %v", err)
	}
}

// TestUnitVerifies runs systemd-analyze verify on the unit bootstrap writes, pointed at a binary that exists.
func TestUnitVerifies(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is missing in CI: `make deps` installs Debian's systemd")
		}
		t.Skip("systemd-analyze not installed (Debian package systemd; `make deps` installs it)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	o := options(root)
	o.Bin = self
	if _, err := Write(o); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(root, UnitPath)
	out, err := exec.Command(tool, "verify", unit).CombinedOutput()
	// verify only warns about many mistakes (a misspelt key or value): any output is a failure.
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
	text := read(t, root, UnitPath)
	for _, want := range []string{"ExecStart=" + self + " agent --config /etc/herofleet/agent.yaml", "Restart=always", "KillMode=process"} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("unit lacks %q", want)
		}
	}
}

// TestUnitLetsTheAgentWriteItsSecrets: ProtectSystem=full makes /etc read-only, so the unit must name the
// config's secrets_dir (under /etc) as writable, or no fleet commit gets past the secrets step under systemd.
func TestUnitLetsTheAgentWriteItsSecrets(t *testing.T) {
	root := t.TempDir()
	if _, err := Write(options(root)); err != nil {
		t.Fatal(err)
	}
	c, err := agent.LoadConfig(filepath.Join(root, ConfigPath))
	if err != nil {
		t.Fatal(err)
	}
	text := read(t, root, UnitPath)
	for _, want := range []string{"ProtectSystem=full", "ReadWritePaths=-" + c.SecretsDir} {
		if !strings.Contains(text, "\n"+want+"\n") {
			t.Errorf("unit lacks %q:\n%s", want, text)
		}
	}
	// Every dir the agent writes (its dir: state, builds, logs, the apps' homes and data; the secrets) is writable
	// under the unit: outside what ProtectSystem=full makes read-only, or named in ReadWritePaths.
	var writable []string
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, "ReadWritePaths="); ok {
			for _, p := range strings.Fields(v) {
				writable = append(writable, strings.TrimPrefix(p, "-"))
			}
		}
	}
	under := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	for _, p := range []string{c.Dir, c.SecretsDir} {
		if !slices.ContainsFunc([]string{"/usr", "/boot", "/efi", "/etc"}, func(ro string) bool { return under(p, ro) }) {
			continue
		}
		if !slices.ContainsFunc(writable, func(rw string) bool { return under(p, rw) }) {
			t.Errorf("the agent writes %s, which ProtectSystem=full leaves read-only and ReadWritePaths %q does not name", p, writable)
		}
	}
	// The Debian package's unit is the one bootstrap writes for its default binary.
	if want := (&Options{Bin: DefaultBin}).service(); packaging.Packaged != want {
		t.Errorf("packaged service %+v, bootstrap writes %+v", packaging.Packaged, want)
	}
}

func TestInitSystem(t *testing.T) {
	proc := t.TempDir()
	if got := InitSystem(proc); got != "unknown" {
		t.Errorf("no /proc/1/comm: %q", got)
	}
	if err := os.MkdirAll(filepath.Join(proc, "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proc, "1", "comm"), []byte("zinit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := InitSystem(proc); got != "zinit" {
		t.Errorf("got %q", got)
	}
}

// fakeInit records the commands bootstrap runs; commands listed in fail exit non-zero.
// failTimes makes a command fail that many times before it succeeds.
type fakeInit struct {
	ran       []string
	fail      map[string]bool
	failTimes map[string]int
}

func (f *fakeInit) run(_ context.Context, argv ...string) ([]byte, error) {
	cmd := strings.Join(argv, " ")
	f.ran = append(f.ran, cmd)
	if f.fail[cmd] {
		return []byte("not monitored"), errors.New("exit status 1")
	}
	if f.failTimes[cmd] > 0 {
		f.failTimes[cmd]--
		return []byte("service is up"), errors.New("exit status 1")
	}
	return nil, nil
}

func TestStartUnderSystemd(t *testing.T) {
	root := t.TempDir()
	o := options(root)
	start := func(o *Options) []string {
		t.Helper()
		cs, err := Write(o)
		if err != nil {
			t.Fatal(err)
		}
		f := &fakeInit{}
		if _, err := Start(context.Background(), "systemd", o, cs, f.run); err != nil {
			t.Fatal(err)
		}
		return f.ran
	}
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: ran %q, want %q", what, got, want)
		}
	}
	check("first run", start(o), "systemctl daemon-reload", "systemctl enable --now herofleet-agent.service")
	check("second run", start(o), "systemctl enable --now herofleet-agent.service")
	o.Role = "admin"
	check("changed role", start(o), "systemctl enable --now herofleet-agent.service", "systemctl restart herofleet-agent.service")
	o.Bin = "/usr/local/bin/herofleet"
	check("changed binary", start(o), "systemctl daemon-reload", "systemctl enable --now herofleet-agent.service", "systemctl restart herofleet-agent.service")
}

func TestStartUnderZinit(t *testing.T) {
	root := t.TempDir()
	o := options(root)
	cs, err := Write(o)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeInit{fail: map[string]bool{"zinit status herofleet-agent": true}}
	if _, err := Start(context.Background(), "zinit", o, cs, f.run); err != nil {
		t.Fatal(err)
	}
	if want := []string{"zinit status herofleet-agent", "zinit monitor herofleet-agent"}; !slices.Equal(f.ran, want) {
		t.Errorf("first run: ran %q, want %q", f.ran, want)
	}

	o.Role = "admin"
	cs, err = Write(o)
	if err != nil {
		t.Fatal(err)
	}
	f = &fakeInit{}
	if _, err := Start(context.Background(), "zinit", o, cs, f.run); err != nil {
		t.Fatal(err)
	}
	if want := []string{"zinit status herofleet-agent", "zinit restart herofleet-agent"}; !slices.Equal(f.ran, want) {
		t.Errorf("changed role: ran %q, want %q", f.ran, want)
	}
}

// A changed zinit file is only read when zinit starts monitoring it again, which it refuses until the agent has
// stopped: forget is retried until the agent is down.
func TestZinitServiceFileChangeRemonitors(t *testing.T) {
	root := t.TempDir()
	o := options(root)
	if _, err := Write(o); err != nil {
		t.Fatal(err)
	}
	o.Bin = "/usr/local/bin/herofleet"
	cs, err := Write(o)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeInit{failTimes: map[string]int{"zinit forget herofleet-agent": 2}}
	s := &starter{ctx: context.Background(), run: f.run, retry: time.Millisecond, patience: time.Minute}
	if _, err := s.zinit(cs); err != nil {
		t.Fatal(err)
	}
	want := []string{"zinit status herofleet-agent", "zinit stop herofleet-agent", "zinit forget herofleet-agent",
		"zinit forget herofleet-agent", "zinit forget herofleet-agent", "zinit monitor herofleet-agent"}
	if !slices.Equal(f.ran, want) {
		t.Errorf("ran %q, want %q", f.ran, want)
	}

	f = &fakeInit{failTimes: map[string]int{"zinit forget herofleet-agent": 1 << 30}}
	s = &starter{ctx: context.Background(), run: f.run, retry: time.Millisecond, patience: 0}
	if _, err := s.zinit(cs); err == nil || !strings.Contains(err.Error(), "did not stop") {
		t.Errorf("an agent that never stops: err %v", err)
	}
}

func TestStartUnderAnotherInitSaysWhatToRun(t *testing.T) {
	o := options(t.TempDir())
	_ = o.Check()
	f := &fakeInit{}
	done, err := Start(context.Background(), "bash", o, nil, f.run)
	if err != nil || len(f.ran) > 0 {
		t.Fatalf("ran %q, err %v", f.ran, err)
	}
	if len(done) != 1 || !strings.Contains(done[0], "/usr/bin/herofleet agent --config /etc/herofleet/agent.yaml") {
		t.Errorf("said %q", done)
	}
}

func read(t *testing.T, root, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
