package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/cockpit"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/bootstrap"
	"github.com/herofleet/herofleet/demo"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/internal/browsertest"
)

// The lab's machines: the admin machine (shared engines, Prometheus) and two testers; tester-07 is the example
// fleet's canary.
var hosts = []Host{
	{Name: "admin-1", Role: "admin", Part: "1"},
	{Name: "tester-07", Role: "tester", Part: "7"},
	{Name: "tester-08", Role: "tester", Part: "8"},
}

// vmHost is the tester booted under qemu, for the power cut that loses the page cache (a wave-"rest" tester).
var vmHost = Host{Name: "tester-09", Role: "tester", Part: "9"}

// lab is one run: the forge, the fleet dir, the machines and the report.
type lab struct {
	t         *testing.T
	ctx       context.Context
	bin       string // the herofleet binary on the host (herofleet build, secrets issue)
	dir       string
	fleetDir  string
	forge     *Forge
	builder   *Builder
	machines  map[string]*Machine
	vm        *VM
	vmReady   chan error // the VM's image and disk, made while the first scenarios run
	vmBoot    time.Time  // when the qemu machine was booted
	report    *Report
	revisions int // app revisions made so far
	http      *http.Client
}

func TestLab(t *testing.T) {
	if os.Getenv("LAB") == "" {
		t.Skip("the lab boots machines: make lab (LAB=1, as root, LAB_DIST holding the release .deb)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the lab needs root (systemd-nspawn, bridges)")
	}
	debs, _ := filepath.Glob(filepath.Join(os.Getenv("LAB_DIST"), "herofleet_*_amd64.deb"))
	if len(debs) != 1 {
		t.Fatalf("LAB_DIST must hold one release .deb for amd64 (make lab makes it), found %v", debs)
	}
	deb := debs[0]
	bin := filepath.Join(os.Getenv("HEROFLEET_BIN"), "herofleet")
	for _, need := range []string{deb, bin} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("HEROFLEET_BIN (bin/ with herofleet) is needed: %v", err)
		}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	l := &lab{t: t, ctx: ctx, bin: bin, machines: map[string]*Machine{}, report: &Report{Start: time.Now()},
		http: &http.Client{Timeout: 3 * time.Second}}
	l.report.Commit = strings.TrimSpace(runOut(t, bin, "version"))
	defer func() {
		if err := l.report.Write(os.Getenv("LAB_DOC")); err != nil {
			t.Error(err)
		}
	}()
	l.setUp(deb)
	for _, s := range []struct {
		name string
		run  func() Row
	}{
		{"fresh tester", l.freshTester},
		{"reboot", l.reboot},
		{"power cut during an upgrade (every process killed)", l.powerCut},
		{"forge unreachable", l.forgeUnreachable},
		{"rollout across machines", l.rollout},
		{"agent restart", l.agentRestart},
		{"agent upgraded through the fleet", l.agentThroughFleet},
		{"drift: a hand-copied binary", l.drift},
		{"runbook", l.runbook},
		{"power cut during an upgrade (page cache lost, qemu)", l.realPowerCut},
	} {
		if ctx.Err() != nil {
			break
		}
		start := time.Now()
		var row Row
		t.Run(s.name, func(t *testing.T) {
			l.t = t
			row = s.run()
			row.Pass = !t.Failed()
		})
		row.Scenario = s.name
		if row.Figures == "" {
			row.Figures = "took " + seconds(time.Since(start))
		} else {
			row.Figures += "; took " + seconds(time.Since(start))
		}
		l.report.Add(row)
	}
}

// setUp builds or reuses the image, makes the golden root, the bridge, the forge with the fleet and its artifacts,
// and boots every machine; everything is undone by the test's cleanup, also when a step fails.
func (l *lab) setUp(deb string) {
	t := l.t
	cache, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	base, built, err := BaseImage(l.ctx, cache, Packages)
	if err != nil {
		t.Fatal(err)
	}
	if built {
		l.report.Note("image: built by mmdebstrap (%s, %s) in %s: %s", Suite, strings.Join(Packages, ", "), seconds(time.Since(start)), base)
	} else {
		l.report.Note("image: cached %s (mmdebstrap %s: %s)", filepath.Base(base), Suite, strings.Join(Packages, ", "))
	}
	sweep(l.ctx)
	l.dir, err = os.MkdirTemp("/var/tmp", "hflab")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.tearDown(t) })
	start = time.Now()
	golden := filepath.Join(l.dir, "golden")
	if err := Golden(l.ctx, base, deb, golden); err != nil {
		t.Fatal(err)
	}
	l.report.Note("golden root with %s installed by apt-get: %s", filepath.Base(deb), seconds(time.Since(start)))
	if err := BridgeUp(l.ctx); err != nil {
		t.Fatal(err)
	}
	if l.forge, err = StartForge(filepath.Join(l.dir, "forge")); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	l.fleetDir = filepath.Join(l.dir, "fleet")
	if err := WriteFleet(l.fleetDir, append(slices.Clone(hosts), vmHost), "1", Timing{Schedule: "@every 5s", Bake: "45s"}); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Publish(l.forge.Git, os.DirFS(l.fleetDir)); err != nil {
		t.Fatal(err)
	}
	l.builder = &Builder{Bin: l.bin, Forge: l.forge, Work: filepath.Join(l.dir, "build")}
	n, err := l.builder.Artifacts(l.ctx, l.fleetDir)
	if err != nil {
		t.Fatal(err)
	}
	l.commit("lab: the fleet's artifacts, built once by herofleet build")
	l.report.Note("forge on [%s]:%s: fleet repo, %d app repos, %d artifacts built by herofleet build in %s", ForgeAddr, ForgePort, n, n, seconds(time.Since(start)))
	for _, h := range hosts {
		m, err := NewMachine(l.ctx, golden, l.dir, h.Name, h.Role, Addr(h.Part))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Seed(UserData(h, l.forge.URL(), l.forge.FleetURL())); err != nil {
			t.Fatal(err)
		}
		l.machines[h.Name] = m
	}
	// The qemu machine's image (with a kernel) and disk are made meanwhile: mmdebstrap, then mkfs.ext4 -d.
	ready := make(chan error, 1)
	l.vmReady = ready
	go func() { ready <- l.makeVM(cache, deb) }()
}

// makeVM builds (or reuses) the image with a kernel and makes the qemu tester's disk from it.
func (l *lab) makeVM(cache, deb string) error {
	start := time.Now()
	base, built, err := BaseImage(l.ctx, cache, KernelPackages)
	if err != nil {
		return err
	}
	if built {
		l.report.Note("image with a kernel (linux-image-amd64) for the qemu machine: built by mmdebstrap in %s", seconds(time.Since(start)))
	}
	golden := filepath.Join(l.dir, "golden-vm")
	if err := Golden(l.ctx, base, deb, golden); err != nil {
		return err
	}
	v, err := NewVM(l.ctx, golden, l.dir, vmHost.Name, vmHost.Role, Addr(vmHost.Part), UserData(vmHost, l.forge.URL(), l.forge.FleetURL()), "4G")
	if err != nil {
		return err
	}
	l.report.Note("qemu machine %s: image, root and a 4 GB ext4 disk made in %s", vmHost.Name, seconds(time.Since(start)))
	// It boots at once: under TCG its first boot and bootstrap take a minute, spent while the other scenarios run.
	l.vmBoot = time.Now()
	if err := v.Boot(l.ctx); err != nil {
		return err
	}
	l.vm = v
	return nil
}

// tearDown stops every machine and removes the bridge and the run's files; it checks that nothing is left.
func (l *lab) tearDown(t *testing.T) {
	ctx := context.Background()
	if l.vmReady != nil {
		<-l.vmReady // the goroutine making it ends before its files go
		l.vmReady = nil
	}
	if l.vm != nil {
		l.vm.Stop(ctx)
	}
	for _, m := range l.machines {
		if err := m.Stop(ctx); err != nil {
			t.Errorf("stop %s: %v", m.Name, err)
		}
		if left := m.Leftovers(); len(left) > 0 {
			t.Errorf("%s: processes left in its PID namespace after it stopped: %v", m.Name, left)
		}
	}
	if l.forge != nil {
		l.forge.Stop()
	}
	BridgeDown(ctx)
	if left := append(append(Links(Bridge), Links("vb-")...), Links("hftap-")...); len(left) > 0 {
		t.Errorf("network interfaces left behind: %v", left)
	}
	if os.Getenv("LAB_KEEP") == "" {
		os.RemoveAll(l.dir)
	}
}

// commit commits the fleet dir and returns the commit.
func (l *lab) commit(msg string) string {
	c, err := l.forge.CommitFleet(l.fleetDir, msg)
	if err != nil {
		l.t.Fatal(err)
	}
	return c
}

// status asks a machine's agent for its status on its read-only listener (metrics_listen), from the host.
func (l *lab) status(name string) (*agent.Status, error) {
	m := l.machines[name]
	resp, err := l.http.Get("http://" + net.JoinHostPort(m.Addr, fleet.DefaultAgentPort) + "/api/v1/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status: %s", resp.Status)
	}
	var s agent.Status
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// waitFor polls cond every 200 ms until it says done, or fails the scenario after max with cond's last word.
func (l *lab) waitFor(what string, max time.Duration, cond func() (bool, string)) time.Duration {
	l.t.Helper()
	start := time.Now()
	deadline := start.Add(max)
	var last string
	for {
		var done bool
		done, last = cond()
		if done {
			return time.Since(start)
		}
		if time.Now().After(deadline) || l.ctx.Err() != nil {
			l.t.Fatalf("%s: not within %s: %s", what, max, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// healthyOn says whether a machine's agent has applied commit (any, when empty) and runs every desired app
// healthy, with no reason; its answer says what is missing.
func (l *lab) healthyOn(name, commit string) (bool, string) {
	s, err := l.status(name)
	if err != nil {
		return false, name + ": " + err.Error()
	}
	if s.Fleet.Commit == "" || (commit != "" && s.Fleet.Commit != commit) {
		return false, fmt.Sprintf("%s: on commit %.7s (head %.7s, %s %s)", name, s.Fleet.Commit, s.Fleet.Head, s.Fleet.State, s.Fleet.Error)
	}
	for _, a := range s.Apps {
		if a.Offered {
			continue
		}
		if a.State != api.AppInstalled || a.Reason != "" || a.OffCommit != "" {
			return false, fmt.Sprintf("%s: app %s is %s %s %s", name, a.Name, a.State, a.Reason, a.OffCommit)
		}
		for _, b := range a.Binaries {
			if b.State != api.BinRunning {
				return false, fmt.Sprintf("%s: %s/%s is %s %s", name, a.Name, b.Name, b.State, b.Reason)
			}
		}
	}
	return true, ""
}

// allHealthy waits for every machine to be healthy on commit.
func (l *lab) allHealthy(commit string, max time.Duration) time.Duration {
	return l.waitFor("every machine healthy on "+fleet.ShortCommit(commit), max, func() (bool, string) {
		for _, h := range hosts {
			if ok, why := l.healthyOn(h.Name, commit); !ok {
				return false, why
			}
		}
		return true, ""
	})
}

// pids is every binary's pid on a machine, by app/binary.
func (l *lab) pids(name string) map[string]int {
	s, err := l.status(name)
	if err != nil {
		l.t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range s.Apps {
		for _, b := range a.Binaries {
			if b.PID != 0 {
				out[a.Name+"/"+b.Name] = b.PID
			}
		}
	}
	return out
}

// revs is every installed app's revision on a machine.
func (l *lab) revs(name string) map[string]string {
	s, err := l.status(name)
	if err != nil {
		l.t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range s.Apps {
		if a.Rev != "" {
			out[a.Name] = a.Rev
		}
	}
	return out
}

// get fetches url from the host and returns the body of a 200 answer.
func (l *lab) get(url string) (string, error) {
	resp, err := l.http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), err
}

func runOut(t *testing.T, name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// freshTester boots every machine, registers each one's age recipient in the fleet as an operator does with what
// bootstrap printed, and checks home#241's Definition of Done on the testers.
func (l *lab) freshTester() Row {
	t := l.t
	boot := time.Now()
	for _, h := range hosts {
		if err := l.machines[h.Name].Boot(); err != nil {
			t.Fatal(err)
		}
	}
	var figures []string
	for _, h := range hosts {
		m := l.machines[h.Name]
		ctx, cancel := context.WithTimeout(l.ctx, 2*time.Minute)
		err := m.WaitBooted(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		figures = append(figures, fmt.Sprintf("%s booted in %s", h.Name, seconds(time.Since(boot))))
	}
	// The operator's one step per machine: the recipient bootstrap printed goes into hosts/<host>.yaml, and
	// `herofleet secrets issue` gives each tester its own voice token (what fleet CI does when a host file is added).
	for _, h := range hosts {
		m := l.machines[h.Name]
		var recipient string
		l.waitFor(h.Name+" bootstrapped", 2*time.Minute, func() (bool, string) {
			out, err := m.Run(l.ctx, "herofleet", "recipient", "--identity", bootstrap.IdentityPath)
			if err != nil {
				return false, err.Error()
			}
			recipient = strings.TrimSpace(out)
			return strings.HasPrefix(recipient, "age1"), out
		})
		if err := WriteHost(l.fleetDir, h, recipient); err != nil {
			t.Fatal(err)
		}
	}
	runOut(t, l.bin, "secrets", "issue", "voice-token", "--role", "tester", "--for", "admin-1", l.fleetDir)
	c := l.commit("lab: the machines' recipients, and a voice token per tester")
	took := l.allHealthy(c, 5*time.Minute)
	figures = append(figures, fmt.Sprintf("every machine healthy on the recipients' commit %s after boot (the commit was made %s before)", seconds(time.Since(boot)), seconds(took)))

	for _, name := range []string{"tester-07", "tester-08"} {
		s, err := l.status(name)
		if err != nil {
			t.Fatal(err)
		}
		var urls []string
		for _, a := range s.Apps {
			if a.Offered {
				continue
			}
			for _, b := range a.Binaries {
				if b.URL == "" || strings.Contains(b.URL, "127.0.0.1") {
					continue // loopback-only binaries are checked through the agent's health checks
				}
				if _, err := l.get(b.URL); err != nil {
					t.Errorf("%s: %s/%s: %v", name, a.Name, b.Name, err)
				}
				urls = append(urls, b.URL)
			}
		}
		// The cockpit's rows, as its page shows them: an Install row per catalog app, a row per binary otherwise.
		rows, err := l.rows(name)
		if err != nil {
			t.Fatal(err)
		}
		var offered []string
		binaryRows := 0
		for _, r := range rows {
			switch r.Type {
			case cockpit.RowBundle:
				offered = append(offered, r.App)
				if !slices.Contains(r.Actions, cockpit.ActionInstall) {
					t.Errorf("%s: catalog row %s offers %v, not install", name, r.App, r.Actions)
				}
			case cockpit.RowBinary:
				binaryRows++
			}
		}
		role, _ := fleet.LoadDir(l.fleetDir)
		if want := role.Roles["tester"].Catalog; !slices.Equal(sortedCopy(offered), sortedCopy(want)) {
			t.Errorf("%s: Install rows %v, want one per catalog app %v", name, offered, want)
		}
		books, err := l.get("http://[" + l.machines[name].Addr + "]:9201/")
		if err != nil {
			t.Fatal(err)
		}
		for _, lib := range []string{"hero_manual", "mycelium", "threefold", "ourworld"} {
			if !strings.Contains(books, "<li>"+lib+"</li>") {
				t.Errorf("%s: Hero Books does not list library %s", name, lib)
			}
		}
		bar, err := l.get("http://[" + l.machines[name].Addr + "]:9231/")
		if err != nil {
			t.Fatal(err)
		}
		if want := "connected as tester " + name; !strings.Contains(bar, want) {
			t.Errorf("%s: the voice bar does not say %q:\n%s", name, want, bar)
		}
		figures = append(figures, fmt.Sprintf("%s: %d URLs answer, Hero Books lists 4 libraries, voice bar connected as %s, cockpit: %d binary rows and an Install row each for %v", name, len(urls), name, binaryRows, offered))
	}
	// A click-install on tester-07's cockpit page, in a real Chromium (the cockpit reached through the machine's own
	// network namespace, as `ssh -L 7070:127.0.0.1:7070` would): it becomes binary rows and builds nothing: the
	// artifact is downloaded.
	m := l.machines["tester-07"]
	fctx, stopForward := context.WithCancel(l.ctx)
	defer stopForward()
	cockpitAddr, err := m.Forward(fctx, bootstrap.Listen)
	if err != nil {
		t.Fatal(err)
	}
	token, err := m.ReadFile(bootstrap.TokenPath)
	if err != nil {
		t.Fatal(err)
	}
	bctx := browsertest.New(t)
	page, cancelPage := context.WithTimeout(bctx, 3*time.Minute)
	defer cancelPage()
	install := `tr.bundle[data-app="foundry"] button[data-action="install"]`
	if err := chromedp.Do(page,
		chromedp.Navigate("http://"+cockpitAddr+"/"),
		chromedp.WaitVisible(chromedp.CSS(`tr.binary.state-running[data-binary="hero_books_web"]`)),
		chromedp.WaitVisible(chromedp.CSS(install)),
	); err != nil {
		t.Fatalf("tester-07's cockpit page: %v", err)
	}
	n, err := chromedp.Run(page, chromedp.Evaluate[int](`document.querySelectorAll('tr.bundle button[data-action="install"]').length`))
	if err != nil {
		t.Fatal(err)
	}
	if want := len(fleetRole(t, l.fleetDir, "tester").Catalog); n != want {
		t.Errorf("tester-07's cockpit page shows %d Install rows, want one per catalog app (%d)", n, want)
	}
	before := len(l.forge.Downloads(m.Addr))
	clicked := time.Now()
	if err := chromedp.Do(page,
		chromedp.Click(chromedp.CSS(install)),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), strings.TrimSpace(string(token))),
		chromedp.Click(chromedp.CSS(`#token-form button`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.binary.state-running[data-binary="hero_foundry_web"]`)),
	); err != nil {
		t.Fatalf("click-install of foundry on tester-07's cockpit page: %v", err)
	}
	l.waitFor("foundry installed on click", 2*time.Minute, func() (bool, string) {
		s, err := l.status("tester-07")
		if err != nil {
			return false, err.Error()
		}
		for _, a := range s.Apps {
			if a.Name == "foundry" {
				running := a.State == api.AppInstalled && len(a.Binaries) > 0
				for _, b := range a.Binaries {
					running = running && b.State == api.BinRunning
				}
				return running, fmt.Sprintf("foundry %s %s", a.State, a.Reason)
			}
		}
		return false, "no foundry row"
	})
	if rows, err := l.rows("tester-07"); err == nil {
		n := 0
		for _, r := range rows {
			if r.App == "foundry" {
				if r.Type != cockpit.RowBinary {
					t.Errorf("foundry installed, yet its row is a %s row", r.Type)
				}
				n++
			}
		}
		if want := len(fleetApp(t, l.fleetDir, "foundry").Binaries); n != want {
			t.Errorf("foundry installed: %d rows, want one per binary (%d)", n, want)
		}
	} else {
		t.Error(err)
	}
	got := l.forge.Downloads(m.Addr)[before:]
	if len(got) != 1 || !strings.Contains(got[0], "foundry-") {
		t.Errorf("the click-install downloaded %v, want foundry's artifact once", got)
	}
	if logs, _ := filepath.Glob(filepath.Join(m.Root, "var/lib/herofleet/builds/*.log")); len(logs) > 0 {
		t.Errorf("a tester built something: %v", logs)
	}
	figures = append(figures, fmt.Sprintf("click-install of foundry in the cockpit page: running %s after the click, its artifact downloaded, no build", seconds(time.Since(clicked))))
	return Row{
		Done:     "booted admin-1, tester-07 and tester-08 from the image; each ran its user data's bootstrap line at first boot; the recipients bootstrap printed went into hosts/*.yaml with a voice token per tester (herofleet secrets issue), one fleet commit",
		Happened: "every machine converged; the testers' preinstalled apps run with answering URLs, Hero Books lists its four libraries, each voice bar is connected to admin-1's engine as its own tester; the cockpit (API, and its page in Chromium) shows the catalog as one Install row per app; a click on Install in the page became binary rows from the downloaded artifact",
		Figures:  strings.Join(figures, "; "),
		Lost:     "nothing",
	}
}

func fleetApp(t *testing.T, dir, app string) *fleet.App {
	f, err := fleet.LoadDir(dir)
	if err != nil || f.Apps[app] == nil {
		t.Fatalf("fleet app %s: %v", app, err)
	}
	return f.Apps[app]
}

func fleetRole(t *testing.T, dir, role string) *fleet.Role {
	f, err := fleet.LoadDir(dir)
	if err != nil || f.Roles[role] == nil {
		t.Fatalf("fleet role %s: %v", role, err)
	}
	return f.Roles[role]
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// statusInside asks a machine's agent for its status from inside the machine (curl on its own address), which
// works while its link is down.
func (l *lab) statusInside(name string) (*agent.Status, error) {
	m := l.machines[name]
	out, err := m.Run(l.ctx, "curl", "-gfsS", "--max-time", "3", "http://"+net.JoinHostPort(m.Addr, fleet.DefaultAgentPort)+"/api/v1/status")
	if err != nil {
		return nil, err
	}
	var s agent.Status
	return &s, json.Unmarshal([]byte(out), &s)
}

// rows are a machine's cockpit rows (GET /api/v1/apps on its loopback cockpit, from inside the machine).
func (l *lab) rows(name string) ([]cockpit.Row, error) {
	out, err := l.machines[name].Run(l.ctx, "curl", "-fsS", "--max-time", "5", "http://"+bootstrap.Listen+"/api/v1/apps")
	if err != nil {
		return nil, err
	}
	var r struct {
		Rows []cockpit.Row `json:"rows"`
	}
	return r.Rows, json.Unmarshal([]byte(out), &r)
}

// upgrade makes a new revision of app, builds its artifact once and commits the fleet: the fleet commit.
func (l *lab) upgrade(app string) string {
	l.revisions++
	if _, err := NewRevision(l.forge.Git, l.fleetDir, app, l.revisions); err != nil {
		l.t.Fatal(err)
	}
	if _, err := l.builder.Artifacts(l.ctx, l.fleetDir); err != nil {
		l.t.Fatal(err)
	}
	return l.commit(fmt.Sprintf("lab: %s revision %d", app, l.revisions))
}

// appOf is one app's status on a machine.
func appOf(s *agent.Status, app string) *agent.AppStatus {
	for i := range s.Apps {
		if s.Apps[i].Name == app {
			return &s.Apps[i]
		}
	}
	return nil
}

// reboot reboots tester-08 from inside: every app comes back on the same revision, with no rebuild or download.
func (l *lab) reboot() Row {
	t := l.t
	m := l.machines["tester-08"]
	s, err := l.status(m.Name)
	if err != nil {
		t.Fatal(err)
	}
	revs, downloads, boots := l.revs(m.Name), len(l.forge.Downloads(m.Addr)), m.Boots()
	start := time.Now()
	_, _ = m.Run(l.ctx, "systemctl", "reboot") // the machine goes down under the command
	l.waitFor("tester-08 booted again", 2*time.Minute, func() (bool, string) { return m.Boots() > boots, "no second boot" })
	up := time.Since(start)
	l.waitFor("tester-08 healthy after its reboot", 3*time.Minute, func() (bool, string) {
		if ok, why := l.healthyOn(m.Name, s.Fleet.Commit); !ok {
			return false, why
		}
		st, err := l.status(m.Name)
		if err != nil {
			return false, err.Error()
		}
		for _, a := range st.Apps {
			for _, b := range a.Binaries {
				if b.PID != 0 && b.Since.Before(start) {
					return false, fmt.Sprintf("%s/%s still the process started at %s, before the reboot", a.Name, b.Name, b.Since)
				}
			}
		}
		return true, ""
	})
	took := time.Since(start)
	after := l.revs(m.Name)
	for app, rev := range revs {
		if after[app] != rev {
			t.Errorf("%s: revision %s before the reboot, %s after", app, rev, after[app])
		}
	}
	if got := l.forge.Downloads(m.Addr)[downloads:]; len(got) > 0 {
		t.Errorf("the reboot downloaded %v", got)
	}
	return Row{
		Done:     "`systemctl reboot` inside tester-08; systemd-nspawn exited 133 and the lab started it again, as systemd-nspawn@.service does",
		Happened: fmt.Sprintf("every app back on the same revision (%d apps) on commit %s, started from its recorded build: nothing downloaded, nothing built", len(revs), fleet.ShortCommit(s.Fleet.Commit)),
		Figures:  fmt.Sprintf("machine back %s after the command; every app healthy %s after it", seconds(up), seconds(took)),
		Lost:     "nothing",
	}
}

// powerCut kills every process of tester-08 at once while it applies a new revision of books, boots it and
// checks what the agent left on disk.
func (l *lab) powerCut() Row {
	t := l.t
	m := l.machines["tester-08"]
	old := l.revs(m.Name)["books"]
	c := l.upgrade("books")
	var phase api.Phase
	var seen time.Duration
	start := time.Now()
	for deadline := start.Add(4 * time.Minute); ; time.Sleep(25 * time.Millisecond) {
		if time.Now().After(deadline) || l.ctx.Err() != nil {
			t.Fatalf("tester-08 never started books' new revision (commit %s)", fleet.ShortCommit(c))
		}
		s, err := l.status(m.Name)
		if err != nil {
			continue
		}
		if a := appOf(s, "books"); a != nil && (a.Phase == api.PhaseStarting || a.Phase == api.PhaseFetching) {
			phase, seen = a.Phase, time.Since(start)
			break
		}
	}
	if err := m.PowerCut(l.ctx); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	if err := m.Boot(); err != nil {
		t.Fatal(err)
	}
	var after *agent.Status
	l.waitFor("tester-08's agent answering after the power cut", 2*time.Minute, func() (bool, string) {
		s, err := l.status(m.Name)
		if err != nil {
			return false, err.Error()
		}
		after = s
		return true, ""
	})
	took0 := time.Since(cut)
	// What the agent wrote must parse, none of it torn or empty.
	var checked int
	var torn []string
	root := filepath.Join(m.Root, "var/lib/herofleet")
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if strings.HasPrefix(rel, "data/") || strings.HasPrefix(rel, "logs/") || strings.HasSuffix(p, ".log") {
			return nil
		}
		if strings.HasSuffix(p, ".json") {
			checked++
			b, err := os.ReadFile(p)
			if err != nil || !json.Valid(b) {
				torn = append(torn, rel)
			}
		}
		return nil
	})
	if checked == 0 {
		t.Error("no state file found under /var/lib/herofleet")
	}
	if len(torn) > 0 {
		t.Errorf("files the agent wrote are torn or empty after the power cut: %v", torn)
	}
	a := appOf(after, "books")
	if a == nil || a.Rev == "" {
		t.Fatalf("books has no revision after the power cut")
	}
	first := a.Rev
	took := l.waitFor("tester-08 healthy on the upgrade after the power cut", 4*time.Minute, func() (bool, string) { return l.healthyOn(m.Name, c) })
	now := l.revs(m.Name)["books"]
	if now == old {
		t.Errorf("books did not move to its new revision after the power cut")
	}
	return Row{
		Done: fmt.Sprintf("a new revision of books committed; while tester-08 was applying it (phase %s, %s after the commit) SIGKILL to the machine's PID 1 from the host; the machine booted again", phase, seconds(seen)),
		Happened: fmt.Sprintf("after the boot books ran one revision (%s; before the upgrade %s), every JSON file the agent wrote parsed (%d checked); the agent then finished the upgrade to %s",
			fleet.ShortRev(first), fleet.ShortRev(old), checked, fleet.ShortRev(now)),
		Figures: fmt.Sprintf("agent answering %s after the cut; healthy on the upgrade's commit %s later", seconds(took0), seconds(took)),
		Lost:    fmt.Sprintf("nothing torn (%d files torn or empty); the host's page cache survives this cut, so unsynced writes are not tested here (the qemu row is)", len(torn)),
	}
}

// forgeUnreachable cuts tester-08's link for two minutes while a new revision of memory goes out.
func (l *lab) forgeUnreachable() Row {
	t := l.t
	m := l.machines["tester-08"]
	down := 2 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("LAB_LINK_DOWN")); err == nil {
		down = d
	}
	pids := l.pids(m.Name)
	if err := m.Link(l.ctx, false); err != nil {
		t.Fatal(err)
	}
	linkUp := false
	defer func() {
		if !linkUp {
			_ = m.Link(context.Background(), true)
		}
	}()
	cut := time.Now()
	c := l.upgrade("memory")
	l.waitFor("the canary on the new commit", 2*time.Minute, func() (bool, string) { return l.healthyOn("tester-07", c) })
	var why string
	l.waitFor("tester-08 saying why it cannot sync", 90*time.Second, func() (bool, string) {
		s, err := l.statusInside(m.Name)
		if err != nil {
			return false, err.Error()
		}
		why = s.Fleet.Error
		return s.Fleet.State == api.SyncError && why != "", fmt.Sprintf("sync %s %q", s.Fleet.State, why)
	})
	time.Sleep(time.Until(cut.Add(down))) // the outage itself: the link stays down this long, whatever happens
	s, err := l.statusInside(m.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range s.Apps {
		for _, b := range a.Binaries {
			if p := pids[a.Name+"/"+b.Name]; p != 0 && p != b.PID {
				t.Errorf("%s/%s restarted while the forge was unreachable (pid %d -> %d)", a.Name, b.Name, p, b.PID)
			}
		}
	}
	if err := m.Link(l.ctx, true); err != nil {
		t.Fatal(err)
	}
	linkUp = true
	took := l.waitFor("tester-08 caught up once its link is back", 2*time.Minute, func() (bool, string) { return l.healthyOn(m.Name, c) })
	return Row{
		Done:     fmt.Sprintf("tester-08's link cut on the host side (`ip link set %s down`) for %s; meanwhile a new revision of memory was committed and reached the canary", m.veth(), down),
		Happened: fmt.Sprintf("no app of tester-08 restarted while cut off; its status said why: %q; once the link was back it applied the commit (already baked on the canary)", why),
		Figures:  fmt.Sprintf("caught up %s after the link came back (sync every 5 s)", seconds(took)),
		Lost:     "nothing",
	}
}

// rollout sends a failing commit (it stops at the canary) and then a good one (the rest follow only after the
// canary has baked, as the admin machine's Prometheus saw it).
func (l *lab) rollout() Row {
	t := l.t
	path := filepath.Join(l.fleetDir, "apps", "books.yaml")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const webArgs = `args: [--listen, "tcp://${host}:9201", --libraries-dir, "${data}/libraries"]`
	if !strings.Contains(string(good), webArgs) {
		t.Fatalf("apps/books.yaml has no %s", webArgs)
	}
	before, err := l.status("tester-08")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(good), webArgs, `args: [--libraries-dir, "${data}/libraries"]`, 1) // no --listen: exits 2
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	cBad := l.commit("lab: hero_books_web without --listen (it exits at once)")
	var canaryWhy string
	l.waitFor("the canary refusing the failing commit", 3*time.Minute, func() (bool, string) {
		s, err := l.status("tester-07")
		if err != nil {
			return false, err.Error()
		}
		a := appOf(s, "books")
		if s.Fleet.Head != cBad || a == nil || a.Reason == "" {
			return false, fmt.Sprintf("canary head %.7s, books %+v", s.Fleet.Head, a)
		}
		canaryWhy = a.Reason
		return true, ""
	})
	bake, _ := time.ParseDuration("45s")
	held := time.Now()
	for time.Since(held) < bake+5*time.Second {
		s, err := l.status("tester-08")
		if err == nil && s.Fleet.Commit == cBad {
			t.Fatalf("tester-08 applied the failing commit %s that stopped at the canary", fleet.ShortCommit(cBad))
		}
		time.Sleep(time.Second)
	}
	s8, _ := l.status("tester-08")
	var heldWhy string
	if s8 != nil && s8.Fleet.Rollout != nil {
		b, _ := json.Marshal(s8.Fleet.Rollout)
		heldWhy = string(b)
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	cGood := l.commit("lab: hero_books_web listens again")
	var canaryAt, restAt time.Time
	l.waitFor("the canary healthy on the good commit", 3*time.Minute, func() (bool, string) {
		ok, why := l.healthyOn("tester-07", cGood)
		if ok {
			canaryAt = time.Now()
		}
		return ok, why
	})
	l.waitFor("tester-08 on the good commit", 4*time.Minute, func() (bool, string) {
		s, err := l.status("tester-08")
		if err != nil {
			return false, err.Error()
		}
		if s.Fleet.Commit == cGood {
			restAt = time.Now()
			return true, ""
		}
		return false, "tester-08 on " + fleet.ShortCommit(s.Fleet.Commit)
	})
	// Prometheus samples the canary every scrape interval (15 s, herofleet prometheus config): the bake window
	// holds only scrapes on the commit, so the canary was on it between bake - 15 s and bake before the gate opened.
	if gap := restAt.Sub(canaryAt); gap < bake-15*time.Second {
		t.Errorf("tester-08 applied the good commit %s after the canary was healthy on it: less than the bake (%s) minus a scrape interval", seconds(gap), bake)
	}
	l.allHealthy(cGood, 3*time.Minute)
	return Row{
		Done:     fmt.Sprintf("commit %s made hero_books_web exit at once; then commit %s put it back. Waves: tester-07 (canary), then the rest; bake %s on the admin machine's Prometheus", fleet.ShortCommit(cBad), fleet.ShortCommit(cGood), bake),
		Happened: fmt.Sprintf("the canary refused the failing commit (%s) and tester-08 stayed on %s for %s (rollout: %s); the good commit reached the canary first and the rest only after its bake", canaryWhy, fleet.ShortCommit(before.Fleet.Commit), seconds(bake+5*time.Second), heldWhy),
		Figures:  fmt.Sprintf("tester-08 applied the good commit %s after the canary was healthy on it", seconds(restAt.Sub(canaryAt))),
		Lost:     "nothing",
	}
}

// agentRestart restarts tester-07's agent twice with no app restarted: `systemctl restart` of its unit, and an
// upgrade of the package (`apt-get install` of a newer .deb, whose postinst restarts the unit).
func (l *lab) agentRestart() Row {
	t := l.t
	m := l.machines["tester-07"]
	restarted := func(before map[string]int) []string {
		after := l.pids(m.Name)
		var r []string
		for k, p := range before {
			if after[k] != p {
				r = append(r, k)
			}
		}
		slices.Sort(r)
		return r
	}
	agentPID := func() string {
		out, _ := m.Run(l.ctx, "systemctl", "show", "--property=MainPID", "--value", "herofleet-agent")
		return strings.TrimSpace(out)
	}
	var figures []string
	before, oldAgent := l.pids(m.Name), agentPID()
	start := time.Now()
	if _, err := m.Run(l.ctx, "systemctl", "restart", "herofleet-agent"); err != nil {
		t.Fatal(err)
	}
	l.waitFor("tester-07 healthy after systemctl restart", 2*time.Minute, func() (bool, string) {
		if agentPID() == oldAgent {
			return false, "the agent has not restarted"
		}
		return l.healthyOn(m.Name, "")
	})
	figures = append(figures, fmt.Sprintf("systemctl restart: healthy again %s after it, %d of %d binaries restarted", seconds(time.Since(start)), len(restarted(before)), len(before)))
	if r := restarted(before); len(r) > 0 {
		t.Errorf("systemctl restart of the agent restarted %d of %d binaries: %v", len(r), len(before), r)
	}

	// A newer .deb: the same build repackaged with a higher version (dpkg-deb), fetched from the forge and installed
	// by apt-get as an operator would.
	deb, version, err := l.newerDeb()
	if err != nil {
		t.Fatal(err)
	}
	before, oldAgent = l.pids(m.Name), agentPID()
	start = time.Now()
	if _, err := m.Run(l.ctx, "curl", "-gfsSo", "/root/herofleet-newer.deb", l.forge.URL()+"artifacts/"+filepath.Base(deb)); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(l.ctx, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "/root/herofleet-newer.deb"); err != nil {
		t.Fatal(err)
	}
	if out, _ := m.Run(l.ctx, "dpkg-query", "-W", "-f=${Version}", "herofleet"); out != version {
		t.Errorf("after apt-get install herofleet is at %q, want %q", out, version)
	}
	l.waitFor("tester-07 healthy after the package upgrade", 2*time.Minute, func() (bool, string) {
		if agentPID() == oldAgent {
			return false, "the agent has not restarted"
		}
		return l.healthyOn(m.Name, "")
	})
	r := restarted(before)
	if len(r) > 0 {
		t.Errorf("apt-get install of a newer .deb restarted %d of %d binaries: %v", len(r), len(before), r)
	}
	figures = append(figures, fmt.Sprintf("apt-get install of %s: agent restarted by postinst, healthy %s after the install began, %d of %d binaries restarted", version, seconds(time.Since(start)), len(r), len(before)))
	return Row{
		Done:     "on tester-07: `systemctl restart herofleet-agent` (the unit bootstrap wrote), then `apt-get install` of a newer .deb fetched from the forge (the same build repackaged one version up)",
		Happened: "each time the agent process was replaced and adopted every running app binary: the same pids, nothing restarted",
		Figures:  strings.Join(figures, "; "),
		Lost:     "nothing",
	}
}

// agentThroughFleet builds the next agent version once (as make release would), publishes its archive on the
// forge and names it in fleet.yaml's agent: block. Each agent downloads, checks and selftests it, and execs it in
// place, the canary first and the rest after its bake; no app restarts, and a URL is polled every 50 ms throughout.
func (l *lab) agentThroughFleet() Row {
	t := l.t
	old, err := l.status("tester-07")
	if err != nil {
		t.Fatal(err)
	}
	next := old.AgentVersion + "+lab2"
	start := time.Now()
	rel, err := agenttest.BuildAgentRelease(filepath.Join(l.dir, "agent-next"), "../cmd/herofleet", []string{next}, next)
	if err != nil {
		t.Fatal(err)
	}
	name := "herofleet_" + next + "_linux_amd64.tar.gz"
	if err := os.WriteFile(filepath.Join(l.forge.Artifacts, name), rel.Archive, 0o644); err != nil {
		t.Fatal(err)
	}
	built := time.Since(start)
	if err := setAgentRelease(filepath.Join(l.fleetDir, "fleet.yaml"), next, l.forge.URL()+"artifacts/"+name, rel.SHA256); err != nil {
		t.Fatal(err)
	}
	pids := map[string]map[string]int{}
	agents := map[string]int{}
	for _, h := range hosts {
		pids[h.Name] = l.pids(h.Name)
		agents[h.Name] = l.agentPID(h.Name)
	}
	// A binary's URL polled every 50 ms on the canary while its agent replaces itself.
	pollCtx, stopPoll := context.WithCancel(l.ctx)
	var polls, failed int
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		url := "http://[" + l.machines["tester-07"].Addr + "]:9201/health"
		for pollCtx.Err() == nil {
			polls++
			if _, err := l.get(url); err != nil {
				failed++
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	c := l.commit("lab: agent " + next)
	committed := time.Now()
	on := func(name string) func() (bool, string) {
		return func() (bool, string) {
			s, err := l.status(name)
			if err != nil {
				return false, err.Error()
			}
			if s.AgentVersion != next || s.Agent == nil || s.Agent.State == api.AgentTrial {
				return false, fmt.Sprintf("%s runs agent %s (%+v)", name, s.AgentVersion, s.Agent)
			}
			return l.healthyOn(name, c)
		}
	}
	canary := l.waitFor("the canary's agent on "+next, 3*time.Minute, on("tester-07"))
	var restStatus *agent.Status
	for _, h := range hosts[:1] {
		if s, err := l.status(h.Name); err == nil {
			restStatus = s
		}
	}
	if restStatus != nil && restStatus.AgentVersion == next {
		t.Errorf("admin-1 (wave rest) ran %s before the canary's bake", next)
	}
	l.waitFor("every agent on "+next, 4*time.Minute, func() (bool, string) {
		for _, h := range hosts {
			if ok, why := on(h.Name)(); !ok {
				return false, why
			}
		}
		return true, ""
	})
	stopPoll()
	<-polled
	var restarted []string
	for _, h := range hosts {
		if p := l.agentPID(h.Name); p != agents[h.Name] {
			t.Errorf("%s: the agent's pid went %d -> %d: not exec'd in place", h.Name, agents[h.Name], p)
		}
		after := l.pids(h.Name)
		for k, p := range pids[h.Name] {
			if after[k] != p {
				restarted = append(restarted, h.Name+" "+k)
			}
		}
	}
	if len(restarted) > 0 {
		t.Errorf("binaries restarted by the agent upgrade: %v", restarted)
	}
	if failed > 0 {
		t.Errorf("%d of %d requests to tester-07's hero_books_web failed while its agent replaced itself", failed, polls)
	}
	return Row{
		Done:     fmt.Sprintf("the next agent (%s) built once and packed as a release archive on the forge (%s), named in fleet.yaml's agent: block in one commit", next, seconds(built)),
		Happened: "each agent downloaded, checked and selftested it, exec'd it in place (same pid under systemd) and confirmed it after a healthy converge; the canary first, the rest only after its bake; no app binary restarted",
		Figures:  fmt.Sprintf("canary confirmed on %s %s after the commit, every machine %s after; tester-07's hero_books_web polled every 50 ms: %d requests, %d failed", next, seconds(canary), seconds(time.Since(committed)), polls, failed),
		Lost:     "nothing",
	}
}

// agentPID is the agent's main pid under systemd on a machine.
func (l *lab) agentPID(name string) int {
	out, _ := l.machines[name].Run(l.ctx, "systemctl", "show", "--property=MainPID", "--value", "herofleet-agent")
	n, _ := strconv.Atoi(strings.TrimSpace(out))
	return n
}

// setAgentRelease names an agent release in fleet.yaml: version, the linux/amd64 archive and its sha256.
func setAgentRelease(path, version, url, sum string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("%s\nagent:\n  version: %q\n  artifacts:\n    linux/amd64: {url: %q, sha256: %q}\n  confirm: 2m\n", strings.TrimRight(string(b), "\n"), version, url, sum)
	return os.WriteFile(path, []byte(text), 0o644)
}

// newerDeb repackages the lab's .deb with its version raised (dpkg-deb) onto the forge's artifacts.
func (l *lab) newerDeb() (path, version string, err error) {
	debs, _ := filepath.Glob(filepath.Join(os.Getenv("LAB_DIST"), "herofleet_*_amd64.deb"))
	if len(debs) != 1 {
		return "", "", fmt.Errorf("no .deb in LAB_DIST")
	}
	work := filepath.Join(l.dir, "deb-newer")
	if err := run(l.ctx, "dpkg-deb", "-R", debs[0], work); err != nil {
		return "", "", err
	}
	control := filepath.Join(work, "DEBIAN", "control")
	b, err := os.ReadFile(control)
	if err != nil {
		return "", "", err
	}
	var lines []string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Version: "); ok {
			version = v + "+lab1"
			line = "Version: " + version
		}
		lines = append(lines, line)
	}
	if err := os.WriteFile(control, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		return "", "", err
	}
	path = filepath.Join(l.forge.Artifacts, "herofleet_"+version+"_amd64.deb")
	return path, version, run(l.ctx, "dpkg-deb", "--root-owner-group", "-b", work, path)
}

// drift does what home#241's notes call the shortcut: another build copied over an installed executable on
// tester-08, then `herofleet restart`. The agent must find it and put the installed build back (drift: heal).
func (l *lab) drift() Row {
	t := l.t
	m := l.machines["tester-08"]
	s, err := l.status(m.Name)
	if err != nil {
		t.Fatal(err)
	}
	exeOf := func(app, binary string) string {
		st, err := l.status(m.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range appOf(st, app).Binaries {
			if b.Name == binary && b.PID != 0 {
				out, err := m.Run(l.ctx, "readlink", "-f", fmt.Sprintf("/proc/%d/exe", b.PID))
				if err != nil {
					t.Fatal(err)
				}
				return strings.TrimSpace(out)
			}
		}
		t.Fatalf("%s/%s is not running on %s", app, binary, m.Name)
		return ""
	}
	sum := func(path string) string {
		out, err := m.Run(l.ctx, "sha256sum", path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(out)[0]
	}
	target, other := exeOf("memory", "hero_memory_server"), exeOf("books", "hero_books_server")
	installed := sum(target)
	start := time.Now()
	if _, err := m.Run(l.ctx, "install", "-m", "0755", other, target); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(l.ctx, "herofleet", "restart", "hero_memory_server", "--token-file", bootstrap.TokenPath); err != nil {
		t.Fatal(err)
	}
	var said string
	took := l.waitFor("the hand-copied hero_memory_server found and put back", 2*time.Minute, func() (bool, string) {
		st, err := l.status(m.Name)
		if err != nil {
			return false, err.Error()
		}
		if a := appOf(st, "memory"); a != nil && a.Code == api.ReasonDrift && said == "" {
			said = a.Reason
		}
		if a := appOf(st, "memory"); a != nil && a.Last != nil && a.Last.Action == fleet.Heal && a.Last.At.After(start) && sum(target) == installed {
			if said == "" {
				said = strings.Join(a.Last.Reasons, "; ")
			}
			ok, why := l.healthyOn(m.Name, s.Fleet.Commit)
			return ok, why
		}
		return false, "not healed yet: sha256 " + sum(target)[:12]
	})
	kept, _ := m.Run(l.ctx, "find", "/var/lib/herofleet/drift", "-type", "f")
	return Row{
		Done:     "on tester-08, hero_books_server's build copied over the installed hero_memory_server (`install -m 0755`), then `herofleet restart hero_memory_server`, as home#241's notes describe the shortcut",
		Happened: fmt.Sprintf("the agent said it (%q) and put the installed build back (drift: heal, the fleet's default); the copy it replaced is kept under /var/lib/herofleet/drift (%d files)", said, len(strings.Fields(kept))),
		Figures:  fmt.Sprintf("found and undone %s after the copy (sync every 5 s)", seconds(took)),
		Lost:     "the hand-copied build, kept aside for whoever made it",
	}
}

// runbook builds the site on the admin machine from its clone of the fleet repo and checks that it names exactly
// the apps that run on each machine.
func (l *lab) runbook() Row {
	t := l.t
	m := l.machines["admin-1"]
	if _, err := m.Run(l.ctx, "git", "-C", "/root/hero-fleet", "pull", "-q"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(l.ctx, "herofleet", "site", "build", "/root/hero-fleet", "--out", "/root/site"); err != nil {
		t.Fatal(err)
	}
	f, err := fleet.LoadDir(l.fleetDir)
	if err != nil {
		t.Fatal(err)
	}
	hostsPage, err := m.ReadFile("/root/site/hosts/index.html")
	if err != nil {
		t.Fatal(err)
	}
	var figures []string
	for _, h := range hosts {
		if !strings.Contains(string(hostsPage), h.Name) {
			t.Errorf("the runbook's hosts page does not name %s", h.Name)
		}
		page, err := m.ReadFile("/root/site/roles/" + h.Role + "/index.html")
		if err != nil {
			pages, _ := filepath.Glob(filepath.Join(m.Root, "root/site/*"))
			t.Fatalf("the site has no page for role %s: %v (site: %v)", h.Role, err, pages)
		}
		s, err := l.status(h.Name)
		if err != nil {
			t.Fatal(err)
		}
		var running []string
		for _, a := range s.Apps {
			if !a.Offered && a.State == api.AppInstalled && !a.Clicked {
				running = append(running, a.Name)
				if title := f.Apps[a.Name].Title; !strings.Contains(string(page), title) {
					t.Errorf("%s runs %s (%s), which the runbook's %s page does not name", h.Name, a.Name, title, h.Role)
				}
			}
		}
		want := f.Roles[h.Role].Preinstalled
		if !slices.Equal(sortedCopy(running), sortedCopy(want)) {
			t.Errorf("%s runs %v; the runbook's %s page preinstalls %v", h.Name, running, h.Role, want)
		}
		figures = append(figures, fmt.Sprintf("%s: %d apps", h.Name, len(running)))
	}
	return Row{
		Done:     "`herofleet site build` on admin-1 from its clone of the fleet repo (git pull first)",
		Happened: "each role page of the runbook names exactly the apps its machines run (the click-installed app aside, which the catalog lists)",
		Figures:  strings.Join(figures, "; "),
		Lost:     "nothing",
	}
}

var recipientLine = regexp.MustCompile(`recipient: (age1[0-9a-z]+)`)

// realPowerCut boots a tester under qemu, lets it converge, and cuts its power (SIGKILL to qemu) while it starts a
// new revision of books: the guest's page cache is lost, as on a real power cut. The disk is read as the next
// boot finds it (journal replayed), then the machine boots and must finish the upgrade.
func (l *lab) realPowerCut() Row {
	t := l.t
	if err := <-l.vmReady; err != nil {
		l.vmReady = nil
		t.Fatal(err)
	}
	l.vmReady = nil
	v, boot := l.vm, l.vmBoot
	// The deployer's step: the recipient bootstrap printed on the console (as cloud-init's output is) goes into
	// hosts/tester-09.yaml, and secrets issue gives it a voice token.
	var recipient string
	l.waitFor("tester-09 bootstrapped under qemu (its recipient on the console)", 6*time.Minute, func() (bool, string) {
		b, _ := os.ReadFile(v.Console)
		if m := recipientLine.FindSubmatch(b); m != nil {
			recipient = string(m[1])
			return true, ""
		}
		return false, "no recipient line on the console yet"
	})
	booted := time.Since(boot)
	l.machines[vmHost.Name] = &Machine{Name: vmHost.Name, Role: vmHost.Role, Addr: v.Addr} // for status only
	defer delete(l.machines, vmHost.Name)
	if err := WriteHost(l.fleetDir, vmHost, recipient); err != nil {
		t.Fatal(err)
	}
	runOut(t, l.bin, "secrets", "issue", "voice-token", "--role", "tester", "--for", "admin-1", l.fleetDir)
	c := l.commit("lab: tester-09's recipient and voice token")
	l.waitFor("tester-09 healthy", 6*time.Minute, func() (bool, string) { return l.healthyOn(vmHost.Name, c) })
	healthy := time.Since(boot)
	old := l.revs(vmHost.Name)["books"]

	c2 := l.upgrade("books")
	var phase api.Phase
	start := time.Now()
	for deadline := start.Add(5 * time.Minute); ; time.Sleep(25 * time.Millisecond) {
		if time.Now().After(deadline) || l.ctx.Err() != nil {
			t.Fatalf("tester-09 never started books' new revision (commit %s)", fleet.ShortCommit(c2))
		}
		s, err := l.status(vmHost.Name)
		if err != nil {
			continue
		}
		if a := appOf(s, "books"); a != nil && a.Phase == api.PhaseStarting {
			phase = a.Phase
			break
		}
	}
	v.PowerCut()
	// What the disk holds now, as the next boot will find it.
	into := filepath.Join(l.dir, "tester-09-after-cut")
	if err := v.Files(l.ctx, "/var/lib/herofleet", into); err != nil {
		t.Fatal(err)
	}
	var checked int
	var torn, empty []string
	root := filepath.Join(into, "herofleet")
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if strings.HasPrefix(rel, "data/") || strings.HasPrefix(rel, "logs/") || strings.HasSuffix(p, ".log") || strings.HasPrefix(rel, "home/") {
			return nil
		}
		info, err := d.Info()
		if err == nil && info.Size() == 0 && !strings.HasPrefix(rel, "builds/") {
			empty = append(empty, rel)
		}
		if strings.HasSuffix(p, ".json") {
			checked++
			if b, err := os.ReadFile(p); err != nil || !json.Valid(b) {
				torn = append(torn, rel)
			}
		}
		return nil
	})
	if checked == 0 {
		t.Errorf("no state file on tester-09's disk after the cut (looked in %s)", root)
	}
	if len(torn) > 0 || len(empty) > 0 {
		t.Errorf("after the power cut, files the agent wrote are torn %v or empty %v", torn, empty)
	}
	var state struct {
		Apps map[string]struct {
			Rev string `json:"rev"`
		} `json:"apps"`
	}
	if b, err := os.ReadFile(filepath.Join(root, "state.json")); err == nil {
		_ = json.Unmarshal(b, &state)
	}
	diskRev := state.Apps["books"].Rev
	if diskRev == "" {
		t.Errorf("state.json on the disk after the cut names no revision of books")
	}
	cut := time.Now()
	if err := v.Boot(l.ctx); err != nil {
		t.Fatal(err)
	}
	l.waitFor("tester-09 healthy on the upgrade after the power cut", 8*time.Minute, func() (bool, string) { return l.healthyOn(vmHost.Name, c2) })
	return Row{
		Done: fmt.Sprintf("tester-09 booted under qemu-system-x86_64 -accel tcg from an ext4 disk image (virtio, cache=writeback); a new revision of books committed; while tester-09 was in phase %s of it, SIGKILL to qemu: the guest's page cache lost", phase),
		Happened: fmt.Sprintf("the disk, journal replayed as a boot does, held state.json naming books at %s (before the upgrade %s) and %d JSON files, all parsing; after the boot the agent finished the upgrade",
			fleet.ShortRev(diskRev), fleet.ShortRev(old), checked),
		Figures: fmt.Sprintf("first boot to bootstrapped %s, to healthy %s (TCG); after the cut healthy on the upgrade in %s", seconds(booted), seconds(healthy), seconds(time.Since(cut))),
		Lost:    fmt.Sprintf("%d files torn, %d empty", len(torn), len(empty)),
	}
}
