package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent/apply"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// driftFleet runs books (one binary) on the tester; drift: is the fleet's, heal when empty.
func driftFleet(drift string) string {
	meta := ""
	if drift != "" {
		meta = "drift: " + drift + "\n"
	}
	return `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
` + meta + `-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], env: {APP_DATA: "${data}"}, listen: "unix://${sockets}/books_server.sock", health: /health}
`
}

// installDrift installs driftFleet(drift) and returns the agent and the installed books_server executable.
func installDrift(t *testing.T, drift string) (*harness, *Agent, string) {
	t.Helper()
	h := newHarness(t)
	h.commitApp("books")
	h.commitFleet(driftFleet(drift))
	a := h.newAgent(nil)
	mustSync(t, a)
	inst := a.host.installed("books")
	if inst == nil || len(inst.Manifest) != 1 || inst.Manifest[0].Path != "target/release/books_server" || len(inst.Manifest[0].SHA256) != 64 {
		t.Fatalf("installed %+v", inst)
	}
	if appOf(a.Status(), "books").Code != "" {
		t.Fatalf("drift right after install: %+v", appOf(a.Status(), "books"))
	}
	return h, a, inst.Binaries[0].Path
}

// handCopy does what home#241's notes say a person did: another build copied over the installed executable (it
// answers with --flavour hand), then `herofleet restart books_server`.
func handCopy(t *testing.T, a *Agent, exe string) {
	t.Helper()
	script := "#!/bin/bash\nexec -a \"$0\" " + testapp + " \"$@\" --flavour hand\n"
	if err := os.Remove(exe); err != nil { // cp --remove-destination: the running file cannot be written
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := a.RestartBinary(context.Background(), "books_server"); err != nil {
		t.Fatal(err)
	}
	agenttest.WaitUntil(t, 10*time.Second, "the hand copy answers", func() bool {
		body, err := agenttest.GetUnix(filepathSock(a, "books_server"), "/")
		return err == nil && strings.Contains(body, "--flavour hand")
	})
}

func filepathSock(a *Agent, bin string) string { return filepath.Join(a.cfg.Dir, "run", bin+".sock") }

func metricsText(t *testing.T, a *Agent) string {
	t.Helper()
	rec := httptest.NewRecorder()
	a.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// drift: report: a hand-copied executable is found at the next poll and said, once, in the words a person needs,
// everywhere: the app's and the binary's reason, the verdict (not healthy), herofleet_app_drift; nothing is put
// back. With drift: heal it is put back, the person's copy kept, only the binary concerned restarted.
func TestDriftHandCopyReportedThenHealed(t *testing.T) {
	h, a, exe := installDrift(t, "report")
	logged := &countingHandler{msg: "drift: what the app runs changed on this host since install"}
	a.log = slog.New(logged)
	if m := metricsText(t, a); !strings.Contains(m, api.SeriesAppDrift+`{app="books"} 0`) {
		t.Fatalf("no drift series at 0:\n%s", m)
	}
	handCopy(t, a, exe)
	mustSync(t, a)

	st := a.Status()
	books := appOf(st, "books")
	if books.Code != api.ReasonDrift || !strings.Contains(books.Reason, "books_server: executable changed on this host since install (sha256 ") ||
		!strings.Contains(books.Reason, "≠ installed ") || !strings.Contains(books.Reason, ", modified ") {
		t.Fatalf("app reason: %q (%s)", books.Reason, books.Code)
	}
	if b := books.Binaries[0]; b.Code != api.ReasonDrift || b.Reason != books.Reason || b.State != api.BinRunning {
		t.Fatalf("binary: %+v", b)
	}
	v := st.Verdict()
	if st.Healthy() || len(v.Problems) != 1 || v.Problems[0].Code != api.ReasonDrift || v.Problems[0].App != "books" {
		t.Fatalf("verdict %+v healthy %v", v, st.Healthy())
	}
	if m := metricsText(t, a); !strings.Contains(m, api.SeriesAppDrift+`{app="books"} 1`) || !strings.Contains(m, `code="drift"`) {
		t.Fatalf("metrics:\n%s", m)
	}
	if body, _ := agenttest.GetUnix(h.sock("books_server"), "/"); !strings.Contains(body, "--flavour hand") {
		t.Fatalf("report put it back: %q", body)
	}
	mustSync(t, a) // said once: a second poll finds the same drift and logs nothing more
	if n := logged.count.Load(); n != 1 {
		t.Fatalf("the drift was logged %d times over two polls", n)
	}
	if got := appOf(a.Status(), "books"); got.Code != api.ReasonDrift || got.Reason != books.Reason {
		t.Fatalf("the second poll changed what is said: %q", got.Reason)
	}

	// the fleet says heal: put back at the next poll
	pid := books.Binaries[0].PID
	h.commitFleet(driftFleet("heal"))
	mustSync(t, a)
	books = appOf(a.Status(), "books")
	if books.Code != "" || books.Binaries[0].Code != "" || books.Binaries[0].PID == pid || !a.Status().Healthy() {
		t.Fatalf("not healed: %+v", books)
	}
	if books.Last == nil || books.Last.Action != "heal" || !strings.Contains(strings.Join(books.Last.Reasons, ";"), "executable changed on this host since install") {
		t.Fatalf("last action %+v", books.Last)
	}
	if body, _ := agenttest.GetUnix(h.sock("books_server"), "/"); strings.Contains(body, "--flavour hand") || !strings.Contains(body, "binary=books_server") {
		t.Fatalf("still the hand copy: %q", body)
	}
	kept, _ := filepath.Glob(filepath.Join(h.dir, "drift", "books", "*-books_server"))
	if len(kept) != 1 {
		t.Fatalf("the person's copy: %v", kept)
	}
	if b, _ := os.ReadFile(kept[0]); !strings.Contains(string(b), "--flavour hand") {
		t.Fatalf("kept %q", b)
	}
	if m := metricsText(t, a); !strings.Contains(m, api.SeriesAppDrift+`{app="books"} 0`) {
		t.Fatalf("drift series after the heal:\n%s", m)
	}
	mustSync(t, a) // nothing more to do
	if got := appOf(a.Status(), "books"); got.Binaries[0].PID != books.Binaries[0].PID || got.Code != "" {
		t.Fatalf("a quiet poll restarted or said something: %+v", got)
	}
}

// A plan made on the host (herofleet plan --on-host reads the status's JSON) decides as the agent does: with drift:
// report it says the drift; with drift: heal (held here for the maintenance window) it plans the heal the agent
// then carries out, with the same words.
func TestDriftPlanOnHostAgrees(t *testing.T) {
	h := newHarness(t)
	clock := &testClock{t: time.Date(2026, 3, 10, 1, 30, 0, 0, time.UTC)}
	windowed := func(drift string) string {
		return strings.Replace(driftFleet(drift), "sync: {schedule: \"@every 1h\"}\n",
			"sync: {schedule: \"@every 1h\"}\nmaintenance: [{schedule: \"0 2 * * *\", duration: 1h}]\n", 1)
	}
	h.commitApp("books")
	h.commitFleet(windowed("report"))
	a := h.newAgent(nil)
	a.now = clock.Now
	mustSync(t, a)
	handCopy(t, a, a.host.installed("books").Binaries[0].Path)
	mustSync(t, a)
	onHost := func() (AppStatus, string) {
		b, err := json.Marshal(a.Status())
		if err != nil {
			t.Fatal(err)
		}
		var st Status
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		target, facts := st.OnHost()
		p := fleet.PlanOnHost(nil, a.host.good, target, facts)
		if p.Error != "" || len(p.Changes) != 1 {
			t.Fatalf("plan %+v", p)
		}
		return appOf(st, "books"), fmt.Sprintf("%s books: %s", p.Changes[0].Action, strings.Join(p.Changes[0].Reasons, "; "))
	}
	books, plan := onHost()
	if len(books.Drift) != 1 || !strings.Contains(books.Reason, books.Drift[0]) || !strings.HasPrefix(books.Drift[0], "books_server: executable changed") {
		t.Fatalf("the status's drift %q, reason %q", books.Drift, books.Reason)
	}
	if plan != "report books: "+books.Drift[0] {
		t.Fatalf("plan with drift: report: %q", plan)
	}
	h.commitFleet(windowed("heal"))
	mustSync(t, a) // the window is closed: the heal waits
	if _, plan = onHost(); plan != "heal books: "+books.Drift[0] {
		t.Fatalf("plan with drift: heal: %q", plan)
	}
	clock.Set(time.Date(2026, 3, 10, 2, 5, 0, 0, time.UTC))
	mustSync(t, a)
	last := appOf(a.Status(), "books").Last
	if did := fmt.Sprintf("%s books: %s", last.Action, strings.Join(last.Reasons, "; ")); did != plan || last.Error != "" {
		t.Fatalf("planned %q, the agent did %q (%s)", plan, did, last.Error)
	}
}

// Each hand change to an installed executable is found at the next poll and put back (drift: heal is the
// default): the file is the installed one again, with its mode, and the binary was restarted from it.
func TestDriftHealed(t *testing.T) {
	cases := []struct {
		name  string
		full  bool // found only by the full check's schedule (the stat is as installed)
		said  string
		touch func(t *testing.T, a *Agent, exe string)
	}{
		{name: "an appended byte", said: "executable changed on this host since install (sha256 ", touch: func(t *testing.T, a *Agent, exe string) {
			if err := a.sup.Stop(context.Background(), "books_server"); err != nil { // a running file cannot be written
				t.Fatal(err)
			}
			f, err := os.OpenFile(exe, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte{0})
			f.Close()
		}},
		{name: "a chmod", said: "executable's mode changed on this host since install (-rw-r--r-- ≠ installed -rwxr-xr-x", touch: func(t *testing.T, a *Agent, exe string) {
			if err := os.Chmod(exe, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a deleted executable", said: "executable deleted on this host since install (target/release/books_server)", touch: func(t *testing.T, a *Agent, exe string) {
			if err := os.Remove(exe); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a byte changed in place, its stat put back", full: true, said: "executable changed on this host since install (sha256 ", touch: func(t *testing.T, a *Agent, exe string) {
			fi, _ := os.Stat(exe)
			if err := a.sup.Stop(context.Background(), "books_server"); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(exe, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte{0xff}, fi.Size()-1)
			f.Close()
			os.Chtimes(exe, fi.ModTime(), fi.ModTime())
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, a, exe := installDrift(t, "")
			want, _ := os.ReadFile(exe)
			c.touch(t, a, exe)
			if c.full { // the cheap check does not see it: the full check's schedule does
				mustSync(t, a)
				if got, _ := os.ReadFile(exe); string(got) == string(want) {
					t.Fatal("put back by the cheap check, which cannot see it")
				}
				a.cfg.DriftFullCheck.Duration = time.Nanosecond
			}
			mustSync(t, a)
			books := appOf(a.Status(), "books")
			if books.Code != "" || books.Last == nil || !strings.Contains(strings.Join(books.Last.Reasons, ";"), "books_server: "+c.said) {
				t.Fatalf("app %+v, last action %+v", books, books.Last)
			}
			got, err := os.ReadFile(exe)
			fi, _ := os.Stat(exe)
			if err != nil || string(got) != string(want) || fi.Mode().Perm() != 0o755 {
				t.Fatalf("not put back: %v %v", fi, err)
			}
			if body, err := agenttest.GetUnix(h.sock("books_server"), "/"); err != nil || !strings.Contains(body, "binary=books_server") {
				t.Fatalf("books_server after the heal: %q %v", body, err)
			}
			if !a.Status().Healthy() {
				t.Fatalf("not healthy after the heal: %+v", a.Status().Verdict())
			}
		})
	}
}

// A file of an unpacked artifact replaced by hand is drift of the whole app: put back from the artifact fetched
// again (checked against its sha256), every binary of the app restarted.
func TestDriftArtifactFileHealed(t *testing.T) {
	h := newHarness(t)
	srv := newArtifactServer(t)
	cfg := h.config()
	cfg.Rewrite["https://artifacts.test/"] = srv.URL + "/"
	a, err := New(cfg, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	sum := srv.put("/books-1.tar.gz", builtTree(t, "1", "books_server"))
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
artifact: {url: "https://artifacts.test/books-1.tar.gz", sha256: {{sha256}}}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
`, agenttest.Vars{"sha256": sum})
	mustSync(t, a)
	inst := a.host.installed("books")
	if inst == nil || len(inst.Manifest) != 2 || inst.Manifest[1].Path != "VERSION" || inst.Manifest[1].Exec {
		t.Fatalf("artifact manifest: %+v", inst)
	}
	version := filepath.Join(inst.BuildDir, "VERSION")
	os.Remove(version)
	os.WriteFile(version, []byte("2 by hand"), 0o644)
	pid := appOf(a.Status(), "books").Binaries[0].PID

	mustSync(t, a)
	books := appOf(a.Status(), "books")
	if books.Last == nil || !strings.Contains(strings.Join(books.Last.Reasons, ";"), "VERSION: file changed on this host since install") {
		t.Fatalf("last action %+v", books.Last)
	}
	if b, _ := os.ReadFile(version); string(b) != "1" || srv.hitCount("/books-1.tar.gz") != 2 || books.Binaries[0].PID == pid || books.Code != "" {
		t.Fatalf("VERSION %q, downloads %d, books %+v", b, srv.hitCount("/books-1.tar.gz"), books)
	}
	if _, err := os.Stat(inst.BuildDir + ".heal"); !os.IsNotExist(err) {
		t.Fatalf("the fetched copy was left: %v", err)
	}

	// the executable and its pristine copy both changed: put back from the artifact fetched again
	exe := inst.Binaries[0].Path
	want, _ := os.ReadFile(exe)
	pristine := filepath.Join(inst.BuildDir, apply.PristineDir, "target", "release", "books_server")
	for _, p := range []string{exe, pristine} {
		os.Remove(p)
		if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustSync(t, a)
	if b, _ := os.ReadFile(exe); string(b) != string(want) || srv.hitCount("/books-1.tar.gz") != 3 || appOf(a.Status(), "books").Code != "" {
		t.Fatalf("executable %q, downloads %d, books %+v", b, srv.hitCount("/books-1.tar.gz"), appOf(a.Status(), "books"))
	}
	if b, _ := os.ReadFile(pristine); string(b) != string(want) {
		t.Fatal("the pristine copy was not made again")
	}
}

// The drift is said once, however its words change: they give when the file was modified relative to today, so
// the next day (on the agent's clock, past its full check) and after a touch they read otherwise while the drift
// (the file, its hashes and modes) is the one already said. The status says the new words.
func TestDriftSaidOnceWhenItsWordsChange(t *testing.T) {
	_, a, exe := installDrift(t, "report")
	clock := &testClock{t: time.Now()}
	a.now = clock.Now
	logged := &countingHandler{msg: "drift: what the app runs changed on this host since install"}
	a.log = slog.New(logged)
	if err := os.Chmod(exe, 0o700); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	before := appOf(a.Status(), "books").Reason
	if !strings.Contains(before, "books_server: executable's mode changed") || logged.count.Load() != 1 {
		t.Fatalf("said %d times: %q", logged.count.Load(), before)
	}
	clock.Set(clock.Now().Add(25 * time.Hour))
	yesterday := time.Now().Add(-30 * time.Hour)
	if err := os.Chtimes(exe, yesterday, yesterday); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	after := appOf(a.Status(), "books").Reason
	if after == before || !strings.Contains(after, "modified "+yesterday.Format("2006-01-02")) {
		t.Fatalf("the words did not change: %q", after)
	}
	if n := logged.count.Load(); n != 1 {
		t.Fatalf("the same drift was said %d times", n)
	}
}

// A heal held for the window is said held once, however the drift's words change while it waits (a touch, the
// next day): the same drift waits for the same window.
func TestDriftHeldHealSaidOnce(t *testing.T) {
	h := newHarness(t)
	clock := &testClock{t: time.Date(2026, 3, 10, 1, 30, 0, 0, time.UTC)}
	h.commitApp("books")
	h.commitFleet(strings.Replace(driftFleet(""), "sync: {schedule: \"@every 1h\"}\n",
		"sync: {schedule: \"@every 1h\"}\nmaintenance: [{schedule: \"0 2 * * *\", duration: 1h}]\n", 1))
	a := h.newAgent(nil)
	a.now = clock.Now
	mustSync(t, a)
	held := &countingHandler{msg: "change held"}
	a.log = slog.New(held)
	exe := a.host.installed("books").Binaries[0].Path
	if err := os.Chmod(exe, 0o700); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	before := appOf(a.Status(), "books").Waiting
	yesterday := time.Now().Add(-30 * time.Hour)
	if err := os.Chtimes(exe, yesterday, yesterday); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	after := appOf(a.Status(), "books").Waiting
	if before == nil || after == nil || after.Reason == before.Reason || !strings.Contains(after.Reason, "modified "+yesterday.Format("2006-01-02")) {
		t.Fatalf("waiting %+v, then %+v", before, after)
	}
	if n := held.count.Load(); n != 1 {
		t.Fatalf("the held heal was said %d times", n)
	}
}

// A heal is a restart like any other: it waits for the fleet's maintenance window, the drift said meanwhile.
func TestDriftHealWaitsForTheWindow(t *testing.T) {
	h := newHarness(t)
	clock := &testClock{t: time.Date(2026, 3, 10, 1, 30, 0, 0, time.UTC)}
	h.commitApp("books")
	h.commitFleet(strings.Replace(driftFleet(""), "sync: {schedule: \"@every 1h\"}\n",
		"sync: {schedule: \"@every 1h\"}\nmaintenance: [{schedule: \"0 2 * * *\", duration: 1h}]\n", 1))
	a := h.newAgent(nil)
	a.now = clock.Now
	mustSync(t, a)
	exe := a.host.installed("books").Binaries[0].Path
	if err := os.Chmod(exe, 0o700); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	st := a.Status()
	books := appOf(st, "books")
	b := books.Binaries[0]
	if books.Code != api.ReasonDrift || b.State != api.BinWaiting || b.Code != api.ReasonDrift ||
		!strings.Contains(b.Reason, "waits for the maintenance window") || !strings.Contains(b.Reason, "books_server: executable's mode changed") {
		t.Fatalf("books %+v", books)
	}
	if fi, _ := os.Stat(exe); fi.Mode().Perm() != 0o700 || st.Healthy() {
		t.Fatalf("healed outside the window (%v) or healthy", fi.Mode())
	}
	clock.Set(time.Date(2026, 3, 10, 2, 5, 0, 0, time.UTC))
	mustSync(t, a)
	if fi, _ := os.Stat(exe); fi.Mode().Perm() != 0o755 || !a.Status().Healthy() {
		t.Fatalf("not healed in the window: %v %+v", fi.Mode(), a.Status().Verdict())
	}
}

// A process the agent did not start that holds a binary's TCP port is named (pid, command) in why the apply
// failed, not a bare "exited".
func TestSquattedPortNamedInTheReason(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // the squatter: this test's process
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	h := newHarness(t)
	h.commitApp("books")
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "tcp://127.0.0.1:{{port}}"], listen: "tcp://127.0.0.1:{{port}}", health: /health}
`, agenttest.Vars{"port": port})
	a := h.newAgent(nil)
	mustSync(t, a)
	books := appOf(a.Status(), "books")
	want := "port 127.0.0.1:" + port + " is held by pid " + strconv.Itoa(os.Getpid()) + " ("
	if books.State == api.AppInstalled || !strings.Contains(books.Reason, want) || !strings.Contains(books.Reason, "not started by herofleet") {
		t.Fatalf("books %+v, want its reason to name %q", books, want)
	}
}

// countingHandler counts the log records with one message.
type countingHandler struct {
	msg   string
	count atomic.Int32
}

func (c *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (c *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == c.msg {
		c.count.Add(1)
	}
	return nil
}
func (c *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *countingHandler) WithGroup(string) slog.Handler      { return c }

// damagePristine changes a source build's installed executable and damages its pristine copy as well: changed
// (a byte appended) or missing. The binary is stopped first: a running file cannot be written.
func damagePristine(t *testing.T, a *Agent, missing bool) (exe, pristine string, want []byte) {
	t.Helper()
	inst := a.host.installed("books")
	exe = inst.Binaries[0].Path
	pristine = filepath.Join(inst.BuildDir, apply.PristineDir, "target", "release", "books_server")
	want, _ = os.ReadFile(exe)
	if err := a.sup.Stop(context.Background(), "books_server"); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pristine, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{exe, pristine} {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte{0})
		f.Close()
	}
	if missing {
		if err := os.Remove(pristine); err != nil {
			t.Fatal(err)
		}
	}
	return exe, pristine, want
}

// A source build's executable whose pristine copy is damaged too (changed, or missing) is put back from its
// installed revision built again, as an install of that revision builds it; the pristine copy is made again and
// the heal's reasons say it was rebuilt.
func TestDriftRebuiltWithoutIntactPristine(t *testing.T) {
	for _, missing := range []bool{false, true} {
		t.Run(map[bool]string{false: "changed", true: "missing"}[missing], func(t *testing.T) {
			h, a, _ := installDrift(t, "")
			inst := a.host.installed("books")
			exe, pristine, want := damagePristine(t, a, missing)
			mustSync(t, a)
			books := appOf(a.Status(), "books")
			reasons := strings.Join(books.Last.Reasons, "; ")
			if books.Code != "" || books.Last.Action != "heal" || books.Last.Error != "" ||
				!strings.Contains(reasons, "books_server: executable changed on this host since install") ||
				!strings.Contains(reasons, "rebuilt "+inst.Rev[:12]+": no intact pristine copy of target/release/books_server") {
				t.Fatalf("books %+v, last action %+v", books, books.Last)
			}
			for _, p := range []string{exe, pristine} {
				if b, _ := os.ReadFile(p); string(b) != string(want) {
					t.Fatalf("%s is not the installed build", p)
				}
			}
			if body, err := agenttest.GetUnix(h.sock("books_server"), "/"); err != nil || !strings.Contains(body, "binary=books_server") {
				t.Fatalf("books_server after the heal: %q %v", body, err)
			}
			if left, _ := filepath.Glob(inst.BuildDir + ".heal*"); len(left) != 0 {
				t.Fatalf("the rebuilt copy was left: %v", left)
			}
			if !a.Status().Healthy() {
				t.Fatalf("not healthy after the heal: %+v", a.Status().Verdict())
			}
		})
	}
}

// A heal that cannot put the drift back (here the rebuild fails: its log's path is taken) says so with why, and
// is not tried again at each poll.
func TestDriftNotHealedSaysWhy(t *testing.T) {
	_, a, _ := installDrift(t, "")
	inst := a.host.installed("books")
	if err := os.MkdirAll(filepath.Join(inst.BuildDir+".heal.log", "taken"), 0o755); err != nil {
		t.Fatal(err)
	}
	damagePristine(t, a, false)
	mustSync(t, a)
	books := appOf(a.Status(), "books")
	if books.Code != api.ReasonDrift || !strings.Contains(books.Reason, "books_server: executable changed on this host since install") ||
		!strings.Contains(books.Reason, "(not healed: build "+inst.Rev[:12]+" again: build log: ") {
		t.Fatalf("books %+v", books)
	}
	last := *books.Last
	mustSync(t, a)
	again := appOf(a.Status(), "books")
	if again.Reason != books.Reason || again.Last.At != last.At || a.Status().Healthy() {
		t.Fatalf("the second poll: %q, last action %+v (was %+v)", again.Reason, again.Last, last)
	}
}
