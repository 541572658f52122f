package rolloutsafety

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/promtest"
	"github.com/herofleet/herofleet/rollout"
)

const (
	bake     = 6 * time.Second // the rollout's bake
	interval = time.Second     // StaticConfig's scrape interval
	// resolution is how much of a bake the gate may not see: it counts Prometheus' scrapes, one missed at most.
	resolution = 2 * interval
	poll       = 250 * time.Millisecond // how often the later wave asks the gate

	commitA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // the commit the fleet ran
	commitC = "cccccccccccccccccccccccccccccccccccccccc" // the commit rolling out
	canary  = "tester-07"
)

func TestMain(m *testing.M) {
	// The cases wait, mostly: run them all at once (each has its own Prometheus), not GOMAXPROCS at a time.
	flag.Parse()
	if p := flag.Lookup("test.parallel"); p != nil && p.Value.String() == strconv.Itoa(runtime.GOMAXPROCS(0)) {
		_ = p.Value.Set("32")
	}
	code := m.Run()
	if doc := os.Getenv("ROLLOUT_SAFETY_DOC"); doc != "" && code == 0 {
		if err := writeDoc(doc); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// Row is one line of docs/rollout-safety.md.
type Row struct {
	order                       int
	Case, Injected, Did, Figure string
}

var (
	rowsMu sync.Mutex
	rows   []Row
)

func record(r Row) {
	rowsMu.Lock()
	defer rowsMu.Unlock()
	rows = append(rows, r)
}

func writeDoc(path string) error {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].order < rows[j].order })
	var b strings.Builder
	b.WriteString("# The rollout gate against adversarial answers\n\n")
	b.WriteString("Written by `make rollout-safety` (package rolloutsafety): each row played one answer against a real Prometheus\n")
	fmt.Fprintf(&b, "(Debian's prometheus) scraping simulated agents every %s, with a bake of %s: a canary wave of one host and a\n", interval, bake)
	fmt.Fprintf(&b, "later wave that called `rollout.Gate` every %s, as an agent of that wave would. Every row asserted one\n", poll)
	b.WriteString("invariant: the later wave never applies C unless Prometheus saw every earlier-wave host healthy on C for the\n")
	fmt.Fprintf(&b, "whole bake (less the gate's resolution, %s: it counts Prometheus' scrapes and lets one be missed). Times\n", resolution)
	b.WriteString("are from one run on a shared 2-core machine. Commit A is the one the fleet ran, C the one rolling out.\n\n")
	b.WriteString("| case | injected | what the later wave did | figure |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Case, r.Injected, r.Did, r.Figure)
	}
	if len(knownHoles) > 0 {
		b.WriteString("\n## Known holes\n\nThe rows marked **APPLIED C WRONGLY** broke the invariant: the later wave applied C sooner than a bake of\n")
		b.WriteString("Prometheus' samples allows. Each stays in the suite, asserting that it still does, until the gate is fixed.\n\n")
		var names []string
		for name := range knownHoles {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Fprintf(&b, "- `%s`: %s.\n", name, knownHoles[name])
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// scene is one case: a Prometheus, the canary's simulated agent, a fleet whose first wave is the canary, and the
// truth: when the canary was last not healthy on C, scraped, with Prometheus up.
type scene struct {
	t     *testing.T
	prom  *promtest.Prom
	agent *promtest.SimAgent
	f     *fleet.Fleet // the fleet rolling out C
	wave  int          // the later wave that asks
	mu    sync.Mutex
	dirty time.Time // the last moment the truth was not "healthy on C for the bake so far"
	clean bool      // the canary is healthy on C, scraped, Prometheus up, now
	// the truth before the last change: Prometheus sees a change at its next scrape, so a verdict asked within a
	// scrape interval (and a margin) of it may still be of the truth before
	prevDirty time.Time
	prevClean bool
	opened    time.Time // when the gate first opened after the last switch, if it did
	held      []string  // the reasons it held with, in order, each once (its seconds aside)
	asks      int       // gate calls
	// resolution is how much of a bake the gate may not see: it counts Prometheus' scrapes, one missed at most (two
	// scrape intervals).
	resolution time.Duration
	// hole, when set, is a known hole this case falls into (see knownHoles): a breach of the invariant is
	// recorded in broken rather than failing the case, and the case fails if it does not happen.
	hole   string
	broken string // the first breach of the invariant
}

// knownHoles are the cases in which the later wave applies C wrongly, by case: what lets it. Such a case asserts
// that the breach still happens (and fails once it does not: then drop it from here), and its row says so.
var knownHoles = map[string]string{}

// breach notes a breach of the invariant: a failure, unless the case is a known hole.
func (s *scene) breach(format string, args ...any) {
	s.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if s.hole == "" {
		s.t.Errorf("INVARIANT BROKEN: %s", msg)
		return
	}
	if s.broken == "" {
		s.broken = msg
		s.t.Logf("INVARIANT BROKEN (a known hole: %s): %s", s.hole, msg)
	}
}

// known marks the scene as the known hole of the case named, if it is one.
func (s *scene) known(name string) { s.hole = knownHoles[name] }

// holeRow is the row's "did" of a case that is a known hole: it fails the case if the breach did not happen.
func (s *scene) holeRow(did string) string {
	s.t.Helper()
	if s.hole == "" {
		return did
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken == "" {
		s.t.Errorf("the known hole %q did not open: the invariant held; drop the case from knownHoles", s.hole)
		return did
	}
	return "**APPLIED C WRONGLY** (a known hole: " + s.hole + "): " + s.broken + "; " + did
}

// newScene starts a canary healthy on A, a Prometheus scraping it by the configuration config makes of it (nil:
// StaticConfig), and waits until the canary has baked on A: the gate for A opens, so Prometheus has been up and
// scraping it for a bake.
func newScene(t *testing.T, config func(a *promtest.SimAgent) string) *scene {
	t.Helper()
	s := startScene(t, config)
	onA := fleetOf(s.prom.URL, commitA, fleet.Wave{Name: "canary", Hosts: []string{canary}}, fleet.Wave{Name: "rest"})
	promtest.Eventually(t, 30*time.Second, "the canary baked on A", func() bool { return !rollout.Gate(context.Background(), onA, 1).Hold })
	return s
}

// startScene is newScene without the wait.
func startScene(t *testing.T, config func(a *promtest.SimAgent) string) *scene {
	t.Helper()
	s := &scene{t: t, agent: promtest.NewSimAgent(t, canary, commitA), wave: 1, resolution: resolution}
	if config == nil {
		config = func(a *promtest.SimAgent) string { return promtest.StaticConfig("testers", a) }
	}
	s.prom = promtest.StartProm(t, config(s.agent))
	s.f = fleetOf(s.prom.URL, commitC, fleet.Wave{Name: "canary", Hosts: []string{canary}}, fleet.Wave{Name: "rest"})
	s.mark(false)
	return s
}

// fleetOf is a fleet of the canary and tester-01 rolling out commit through waves, its health read from prom.
func fleetOf(prom, commit string, waves ...fleet.Wave) *fleet.Fleet {
	f := &fleet.Fleet{Hosts: map[string]*fleet.Host{canary: {Role: "tester"}, "tester-01": {Role: "tester"}}, Commit: commit}
	f.Meta.Rollout.Waves = waves
	f.Meta.Rollout.Bake = fleet.Duration{Duration: bake}
	f.Meta.Rollout.Health.Prometheus = prom
	return f
}

// set changes the canary; clean says whether, after the change, it is healthy on C with Prometheus able to see it
// so. Any change restarts the truth's bake: the moment is noted as dirty.
func (s *scene) set(clean bool, f func(a *promtest.SimAgent)) {
	s.agent.Set(f)
	s.mark(clean)
}

// mark notes now as a moment the truth's bake starts again, and whether the canary is clean from now on.
func (s *scene) mark(clean bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prevDirty, s.prevClean = s.dirty, s.clean
	s.dirty, s.clean, s.opened = time.Now(), clean, time.Time{}
}

// lag is how long after a change Prometheus may not have scraped it yet: a scrape interval and a margin.
func (s *scene) lag() time.Duration { return s.resolution/2 + 500*time.Millisecond }

// apply switches the canary to C, healthy, its clock the machine's: the start of the bake.
func (s *scene) apply() {
	s.set(true, func(a *promtest.SimAgent) { a.Commit, a.Healthy, a.AppliedAt = commitC, true, time.Now() })
}

// ask calls the gate once as the later wave and checks the invariant against the truth: an open gate needs a
// canary clean since at least a bake (less the resolution) before the call.
func (s *scene) ask() rollout.Verdict {
	s.t.Helper()
	asked := time.Now()
	v := rollout.Gate(context.Background(), s.f, s.wave)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asks++
	if v.Hold {
		key := digits.ReplaceAllString(v.Reason, "N")
		if !slices.ContainsFunc(s.held, func(r string) bool { return digits.ReplaceAllString(r, "N") == key }) {
			s.held = append(s.held, v.Reason)
		}
		return v
	}
	if asked.Sub(s.dirty) < s.lag() && s.prevClean && asked.Sub(s.prevDirty) >= bake-s.resolution {
		return v // the truth before the change, which Prometheus may not have scraped yet, allowed it
	}
	if s.opened.IsZero() {
		s.opened = asked
	}
	switch clean := asked.Sub(s.dirty); {
	case !s.clean:
		s.breach("wave %d may apply C while the canary is not healthy on C (asked %s after the last change)", s.wave, clean.Round(10*time.Millisecond))
	case clean < bake-s.resolution:
		s.breach("wave %d may apply C %s after the canary was last not healthy on C; the bake is %s", s.wave, clean.Round(10*time.Millisecond), bake)
	}
	return v
}

// watch asks the gate every poll for d, or until it opens when untilOpen; it reports whether the gate opened.
func (s *scene) watch(d time.Duration, untilOpen bool) bool {
	s.t.Helper()
	end := time.Now().Add(d)
	for {
		s.ask()
		if _, opened := s.openedAfter(); opened && untilOpen {
			return true
		}
		if time.Now().After(end) {
			s.mu.Lock()
			defer s.mu.Unlock()
			return !s.opened.IsZero()
		}
		time.Sleep(poll)
	}
}

// holds asks the gate for d and fails the case if it ever opened.
func (s *scene) holds(d time.Duration) {
	s.t.Helper()
	if s.watch(d, false) {
		s.t.Errorf("the gate opened; it should have held all along")
	}
}

// opens asks the gate until it opens (failing the case after a bake and 10 s) and returns how long after the last
// change it opened: the control that the gate is not simply always closed.
func (s *scene) opens() time.Duration {
	s.t.Helper()
	if !s.watch(bake+10*time.Second, true) {
		s.t.Errorf("the gate never opened after the canary was healthy on C again; held by %q", s.lastHeld())
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened.Sub(s.dirty)
}

// reasons are the distinct reasons the gate held with since the start, quoted and joined; reset forgets them.
func (s *scene) reasons() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var q []string
	for i, r := range s.held {
		if i == 4 {
			q = append(q, fmt.Sprintf("%d more", len(s.held)-i))
			break
		}
		q = append(q, "“"+shorten(r)+"”")
	}
	if len(q) == 0 {
		return "never held"
	}
	return strings.Join(q, ", then ")
}

// calls is how many times the gate was asked.
func (s *scene) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asks
}

// openedAfter is how long after the last change the gate opened, if it did.
func (s *scene) openedAfter() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened.Sub(s.dirty), !s.opened.IsZero()
}

func (s *scene) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = nil
}

func (s *scene) lastHeld() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.held) == 0 {
		return ""
	}
	return s.held[len(s.held)-1]
}

// digits are the figures of a reason that change from call to call (a bake's progress, counts of scrapes).
var digits = regexp.MustCompile(`[0-9]+`)

// shorten keeps a reason readable in a table: the bake's seconds vary from call to call, the rest says why.
func shorten(r string) string {
	r = strings.ReplaceAll(r, "|", `\|`)
	if len(r) > 160 {
		r = r[:157] + "…"
	}
	return r
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
