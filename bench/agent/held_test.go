package agentbench

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// wavesFleet is fleetFiles in a fleet of 1,000 tester host files rolling out in two waves, the canary first; the
// benchmark's agent (host b, no host file) is in the rest. Its Prometheus does not answer (nothing listens on
// port 1), so the rest hold every new commit.
func wavesFleet(args string) gitserver.Files {
	files := fleetFiles(args)
	files["fleet.yaml"] = gitserver.File{Data: []byte(`name: bench
rollout:
  waves:
    - {name: canary, hosts: [tester-0007]}
    - {name: rest}
  health: {prometheus: "http://127.0.0.1:1"}
`)}
	for i := range 1000 {
		files[fmt.Sprintf("hosts/tester-%04d.yaml", i)] = gitserver.File{Data: []byte(fmt.Sprintf("role: tester\naddress: 10.0.%d.%d\n", i/250, i%250+1))}
	}
	return files
}

// BenchmarkHeldPoll: a host of the last wave holding a new commit of a 1,000-host fleet polls: it syncs, finds the
// commit it holds, asks the gate again (no answer: it holds on) and keeps converging the applied commit. Beside it,
// BenchmarkNoopPoll1000 is the idle poll of the same fleet (nothing new). Same metrics as BenchmarkNoopPoll.
func BenchmarkHeldPoll(b *testing.B) {
	s := newWavesSetup(b)
	if _, err := s.git.Commit("ops/fleet", "main", "v1", wavesFleet("v1")); err != nil {
		b.Fatal(err)
	}
	if err := s.a.SyncNow(context.Background()); err != nil {
		b.Fatal(err)
	}
	st := s.a.Status()
	if st.Fleet.State != api.SyncWaiting || st.Fleet.Rollout == nil || !strings.Contains(st.Fleet.Rollout.Reason, "no answer from Prometheus") {
		b.Fatalf("the new commit is not held for want of an answer: fleet %+v rollout %+v", st.Fleet, st.Fleet.Rollout)
	}
	noopPolls(b, s)
	if st := s.a.Status(); st.Fleet.State != api.SyncWaiting || st.Fleet.Commit == st.Fleet.Head {
		b.Fatalf("the held commit was applied: %+v", st.Fleet)
	}
}

// BenchmarkNoopPoll1000 is BenchmarkNoopPoll on the 1,000-host fleet of BenchmarkHeldPoll, nothing held.
func BenchmarkNoopPoll1000(b *testing.B) {
	noopPolls(b, newWavesSetup(b))
}

// newWavesSetup is newSetup with the 1,000-host fleet of two waves as its first commit (never held).
func newWavesSetup(b *testing.B) *setup {
	s := newSetupOf(b, wavesFleet("v0"))
	if st := s.a.Status(); st.Fleet.State != api.SyncOK || st.Fleet.Commit != st.Fleet.Head {
		b.Fatalf("the waves fleet is not applied: %+v", st.Fleet)
	}
	return s
}
