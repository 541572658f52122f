package faults

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// smallDisk mounts a tmpfs of size at dir until the test ends, or skips the test saying why it cannot.
func smallDisk(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		reason := fmt.Sprintf("cannot mount a %s tmpfs (%v: %s): this machine does not allow a small filesystem", size, err, strings.TrimSpace(string(out)))
		record(Row{Fault: "a full disk during a build", Injected: "skipped", Did: reason, Figure: "-", Lost: "-"})
		t.Skip(reason)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// free is what is left on dir's filesystem, in bytes.
func free(t *testing.T, dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bfree) * st.Bsize
}

// The disk of the agent's dir (its state, the sources, the builds) fills up during an upgrade's build: the old
// revision keeps running, the status says "no space left on device", nothing is lost (the state on disk still
// records the running revision), and once space is freed the next try succeeds.
func TestFullDiskDuringBuild(t *testing.T) {
	forge := agenttest.StartForge(t, agenttest.Vars{"testapp": testapp})
	forge.CommitApp("books")
	forge.CommitFleet(oneApp("unix://${sockets}/books_server.sock", ""))
	p := &proc{t: t, forge: forge, dir: agenttest.AgentDir(t), token: "faults-token"}
	disk := p.dir // the agent's whole dir (state, sources, builds, logs) on a disk with room for two revisions of ~8 MiB, each with the pristine copy of its executable
	smallDisk(t, disk, "48m")
	p.api = fmt.Sprintf("127.0.0.1:%d", agenttest.FreePort(t))
	os.WriteFile(filepath.Join(p.dir, "token"), []byte(p.token+"\n"), 0o600)
	os.WriteFile(filepath.Join(p.dir, "agent.yaml"), []byte(agenttest.AgentConfig(p.dir, forge)+
		fmt.Sprintf("listen: %s\ntoken_file: %s\n", p.api, filepath.Join(p.dir, "token"))), 0o600)
	p.start()
	before := p.waitRunning("books", "books_server", 60*time.Second)
	old := p.app("books").Rev

	// Something else fills the disk: 1 MiB is left, less than the build writes.
	ballast := filepath.Join(disk, "ballast")
	fill, err := os.Create(ballast)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for free(t, disk) > 1<<20 {
		if _, err := fill.Write(chunk[:min(len(chunk), int(free(t, disk)-1<<20))]); err != nil {
			break
		}
	}
	fill.Close()
	upgrade := forge.CommitApp("books")
	start := time.Now()
	p.post(t, "/api/v1/sync")
	var st agent.AppStatus
	agenttest.WaitUntil(t, 60*time.Second, "the failed upgrade in the status", func() bool {
		st = p.app("books")
		return strings.Contains(st.Reason, "no space left on device")
	})
	said := time.Since(start)
	t.Logf("books: %s", st.Reason)
	if full, _ := p.status(); len(full.Quarantined) != 0 || st.Code != api.ReasonDiskFull {
		t.Fatalf("a full disk quarantined books or said it otherwise: %+v, %s", full.Quarantined, st.Code)
	}
	b := p.binary("books", "books_server")
	if st.Rev != old || b.PID != before.PID || b.State != api.BinRunning || b.Restarts != 0 || !answers(p, "unix://${sockets}/books_server.sock") {
		t.Fatalf("the old revision was disturbed: %+v %+v", st, b)
	}

	state, err := os.ReadFile(filepath.Join(p.dir, "state.json"))
	if err != nil || !json.Valid(state) || !strings.Contains(string(state), old) {
		t.Fatalf("the state on the full disk: %v %.300s", err, state)
	}

	if err := os.Remove(ballast); err != nil { // space is freed
		t.Fatal(err)
	}
	freed := time.Now()
	p.post(t, "/api/v1/sync")
	agenttest.WaitUntil(t, 60*time.Second, "the upgrade after space was freed", func() bool {
		st = p.app("books")
		return st.Rev == upgrade && st.State == api.AppInstalled && p.binary("books", "books_server").State == api.BinRunning
	})
	took := time.Since(freed)
	t.Logf("said so %s after the sync; upgraded %s after space was freed", said, took)
	record(Row{
		Fault:    "a full disk during a build",
		Injected: "the agent's dir (state, sources, builds, logs) on a 48 MiB tmpfs, filled to 1 MiB free; an upgrade of books whose build writes 8 MiB (and 8 MiB for the pristine copy of its executable)",
		Did:      "the build failed with ENOSPC and its partial tree was removed; the old revision kept running untouched and state.json still records it; the app's reason says \"no space left on device\"; not quarantined (the disk, not the spec, failed): the next sync after space was freed upgraded it",
		Figure:   fmt.Sprintf("reason shown %s after the sync; 0 restarts of the old revision; upgraded %s after space was freed", said.Round(time.Millisecond), took.Round(time.Millisecond)),
		Lost:     "nothing",
	})
}
