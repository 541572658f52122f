package apply

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/plugins"
)

// fakeHost is the host as the transaction sees it, in memory.
type fakeHost struct {
	mu          sync.Mutex
	apps        map[string]*Installed
	quarantined map[string]string // app -> key
	phases      []string          // app:phase, in order
	reasons     map[string]api.Reason
	applied     int
}

func newFakeHost() *fakeHost {
	return &fakeHost{apps: map[string]*Installed{}, quarantined: map[string]string{}, reasons: map[string]api.Reason{}}
}

func (h *fakeHost) Installed(app string) *Installed {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.apps[app]
}

func (h *fakeHost) Switch(inst *Installed) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.apps[inst.App] = inst
	return nil
}

func (h *fakeHost) Forget(app string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.apps, app)
	return nil
}

func (h *fakeHost) Quarantine(app, rev, key, reason string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.quarantined[app] = key
	return nil
}

func (h *fakeHost) Stopped(string) bool     { return false }
func (h *fakeHost) Address() string         { return "10.0.0.7" }
func (h *fakeHost) Pins() map[string]string { return map[string]string{"cleanup": "abc"} }

func (h *fakeHost) SetPhase(app string, p api.Phase) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.phases = append(h.phases, app+":"+string(p))
}

func (h *fakeHost) SetReason(app string, r api.Reason) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reasons[app] = r
}

func (h *fakeHost) Output(string) io.Writer            { return io.Discard }
func (h *fakeHost) BuildDone(string, time.Time, error) {}

func (h *fakeHost) ApplyDone(string, time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.applied++
}

func (h *fakeHost) calls() (phases []string, applied int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.phases, h.applied
}

// fakeHooks answers every call with err and remembers the calls.
type fakeHooks struct {
	mu    sync.Mutex
	calls []plugins.Call
	err   error
}

func (f *fakeHooks) Run(_ context.Context, c plugins.Call) (*plugins.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	return nil, f.err
}

func newTestRunner(t *testing.T, host *fakeHost, hooks HookRunner) *Runner {
	t.Helper()
	dir := t.TempDir()
	sup := supervise.New(supervise.Options{Marker: supervise.Marker(dir)})
	t.Cleanup(func() { sup.StopAll(context.Background()) })
	return New(Options{
		Config:     Config{Dir: dir, Host: "tester-01", HealthTimeout: time.Second},
		Supervisor: sup, Hooks: hooks, Lanes: &Lanes{}, State: host, Progress: host,
	})
}

// The identity key hashes the same JSON as the two copies it replaced did, so an agent of this version restarts
// nothing that an older one applied.
func TestIdentityKeyUnchanged(t *testing.T) {
	b := &fleet.Build{Command: []string{"make"}}
	bins := []fleet.Binary{{Name: "books_server", Kind: "server", Path: "bin/books", Args: []string{"--x"}}}
	hooks := []fleet.Hook{{On: "pre-start", Plugin: "db"}}
	old := hashJSON(struct {
		Rev      string
		Build    *fleet.Build
		Binaries []fleet.Binary
		Hooks    []fleet.Hook
		Address  string
	}{"rev", b, bins, hooks, "10.0.0.7"})
	if got := hashJSON(identity{"rev", b, bins, hooks, "10.0.0.7"}); got != old {
		t.Fatalf("identity key %s, was %s", got, old)
	}
}

// An artifact's quarantine is held against its key and URL; a source's against its key alone.
func TestQuarantineKey(t *testing.T) {
	r := newTestRunner(t, newFakeHost(), nil)
	app := func(url string) fleet.Resolved {
		return fleet.Resolved{App: &fleet.App{Name: "books", Artifact: &fleet.Artifact{URL: url, SHA256: strings.Repeat("AB", 32)}}}
	}
	d := &fleet.Desired{Address: "10.0.0.7"}
	one, moved := r.artifactTarget(&fleet.Fleet{}, d, app("http://a/x.tar.gz")), r.artifactTarget(&fleet.Fleet{}, d, app("http://b/x.tar.gz"))
	if one.Rev() != strings.Repeat("ab", 32) || one.Key() != moved.Key() || one.QuarantineKey() == moved.QuarantineKey() || one.QuarantineKey() == one.Key() {
		t.Fatalf("rev %s keys %s %s, quarantine keys %s %s", one.Rev(), one.Key(), moved.Key(), one.QuarantineKey(), moved.QuarantineKey())
	}
	if src := (&Target{key: "k"}); src.QuarantineKey() != "k" {
		t.Fatalf("a source's quarantine key %q", src.QuarantineKey())
	}
}

// A removal runs the pre-remove hooks with the fleet's pins and the host's address, and forgets the app even when
// a hook fails, saying so in the app's reason.
func TestRemoveThroughTheHost(t *testing.T) {
	host := newFakeHost()
	hooks := &fakeHooks{err: errors.New("plugin gone")}
	r := newTestRunner(t, host, hooks)
	inst := &Installed{App: "books", Rev: "abc", Binaries: []Proc{{Name: "books_server"}},
		Hooks: []fleet.Hook{{On: "pre-remove", Plugin: "cleanup"}, {On: "pre-start", Plugin: "db"}}}
	host.apps["books"] = inst
	if reason := r.Remove(context.Background(), inst); !reason.IsZero() {
		t.Fatalf("remove: %v", reason)
	}
	if host.Installed("books") != nil {
		t.Fatal("the removed app is still recorded")
	}
	if len(hooks.calls) != 1 {
		t.Fatalf("hook calls %+v", hooks.calls)
	}
	c := hooks.calls[0]
	if c.Event != "pre-remove" || c.SHA256 != "abc" || c.Address != "10.0.0.7" || c.Host != "tester-01" || strings.Join(c.Binaries, ",") != "books_server" {
		t.Fatalf("pre-remove call %+v", c)
	}
	if host.reasons["books"].Code != api.ReasonPreRemoveFailed {
		t.Fatalf("reason %+v", host.reasons["books"])
	}
}

// An app with hooks on an agent without a hook runner fails before anything is built, and is quarantined through
// the host for its quarantine key.
func TestApplyWithoutHookRunnerQuarantines(t *testing.T) {
	host := newFakeHost()
	r := newTestRunner(t, host, nil)
	app := fleet.Resolved{App: &fleet.App{Name: "books", Hooks: []fleet.Hook{{On: "pre-start", Plugin: "db"}},
		Artifact: &fleet.Artifact{URL: "http://x/a.tar.gz", SHA256: strings.Repeat("ab", 32)}}}
	tg := r.artifactTarget(&fleet.Fleet{}, &fleet.Desired{}, app)
	reason := r.Apply(context.Background(), tg)
	if reason.Code != api.ReasonApplyFailed || !strings.Contains(reason.String(), errNoRunner.Error()) {
		t.Fatalf("reason %v", reason)
	}
	if host.quarantined["books"] != tg.QuarantineKey() || host.Installed("books") != nil {
		t.Fatalf("quarantined %v, installed %v", host.quarantined, host.Installed("books"))
	}
	phases, applied := host.calls()
	if strings.Join(phases, ",") != "books:failed" || applied != 1 {
		t.Fatalf("phases %v, applies counted %d", phases, applied)
	}
}
