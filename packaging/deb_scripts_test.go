package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runScript runs a maintainer script with args, its config path pointed at config, with a fake herofleet and a
// fake systemctl first on PATH, and returns what they were called with, one call a line.
func runScript(t *testing.T, script []byte, config string, args ...string) []string {
	t.Helper()
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	fake := "#!/bin/sh\necho \"$(basename \"$0\") $*\" >> " + calls + "\n"
	for _, name := range []string{"herofleet", "systemctl"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	text := strings.ReplaceAll(string(script), "/etc/herofleet/agent.yaml", config)
	path := filepath.Join(dir, "script")
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", append([]string{path}, args...)...)
	cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(path), args, err, out)
	}
	b, _ := os.ReadFile(calls)
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "_"))
}

// The agent leaves its apps running when it stops; the package stops them on purpose on removal (a purge runs
// prerm with "remove" too), after the agent's unit so that the agent cannot start them again, and never on an
// upgrade, whose new agent adopts them.
func TestPrermStopsAppsOnRemoveOnly(t *testing.T) {
	config := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(config, []byte("role: tester\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stopApps := "herofleet_agent_stop-apps_--config_" + config
	stopUnit := "systemctl_stop_herofleet-agent.service"
	calls := runScript(t, prerm, config, "remove")
	last := len(calls) - 1
	if last < 0 || calls[last] != stopApps {
		t.Errorf("prerm remove: calls %q, want %q last", calls, stopApps)
	}
	if _, err := os.Stat("/run/systemd/system"); err == nil && (len(calls) != 2 || calls[0] != stopUnit) {
		t.Errorf("prerm remove under systemd: calls %q, want %q then %q", calls, stopUnit, stopApps)
	}
	for _, args := range [][]string{{"upgrade", "1.2.0"}, {"failed-upgrade", "1.2.0"}, {"deconfigure", "in-favour", "x", "1"}} {
		if calls := runScript(t, prerm, config, args...); len(calls) != 0 {
			t.Errorf("prerm %v: calls %q, want none (the apps keep running)", args, calls)
		}
	}
	// No agent config: nothing to stop, and the removal goes on.
	if calls := runScript(t, prerm, filepath.Join(t.TempDir(), "none.yaml"), "remove"); len(calls) > 1 {
		t.Errorf("prerm remove without a config: calls %q", calls)
	}
	if !strings.Contains(string(prerm), `herofleet agent stop-apps --config "$config"`) || !strings.Contains(string(prerm), "config=/etc/herofleet/agent.yaml") {
		t.Errorf("prerm does not stop the apps of the packaged config:\n%s", prerm)
	}
}

// An upgrade restarts a running agent on the new binary (which adopts the apps); a first install does not.
func TestPostinstRestartsTheAgentOnUpgradeOnly(t *testing.T) {
	if !strings.Contains(string(postinst), `[ "$1" = configure ] && [ -n "$2" ]`) || !strings.Contains(string(postinst), "systemctl try-restart herofleet-agent.service") {
		t.Errorf("postinst does not try-restart the agent on an upgrade:\n%s", postinst)
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		t.Skip("no systemd here: the script's systemctl calls are not reached")
	}
	restart := "systemctl_try-restart_herofleet-agent.service"
	if calls := runScript(t, postinst, "", "configure", "1.2.0"); len(calls) == 0 || calls[len(calls)-1] != restart {
		t.Errorf("postinst configure 1.2.0: calls %q, want %q", calls, restart)
	}
	if calls := runScript(t, postinst, "", "configure", ""); strings.Contains(strings.Join(calls, " "), "restart") {
		t.Errorf("postinst configure (first install): calls %q, want no restart", calls)
	}
}
