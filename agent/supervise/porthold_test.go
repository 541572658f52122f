package supervise_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent/supervise"
)

// A binary that keeps exiting while a process the agent did not start holds its TCP port says who: the pid and
// the command, not a bare crash loop. The port free again, nothing is named.
func TestSquattedPortNamed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // the squatter: this test's own process
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	h, ok := supervise.PortHolder(addr)
	if !ok || h.PID != os.Getpid() || h.Marked || !strings.Contains(h.Command, "supervise.test") {
		t.Fatalf("holder %+v %v", h, ok)
	}
	s := supervise.New(supervise.Options{BackoffMin: 5 * time.Millisecond, BackoffMax: 40 * time.Millisecond, CrashloopAt: 3})
	defer s.StopAll(context.Background())
	sp := spec(t, "squatted", "exit")
	sp.TCP = addr
	if err := s.Start(sp); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "crashloop", func() bool { st, _ := s.Status("squatted"); return st.State == supervise.Crashloop })
	st, _ := s.Status("squatted")
	want := "port " + addr + " is held by pid " + strconv.Itoa(os.Getpid()) + " ("
	if !strings.Contains(st.Reason, want) || !strings.Contains(st.Reason, "), not started by herofleet") {
		t.Fatalf("reason %q, want it to name %q", st.Reason, want)
	}
	ln.Close()
	if h, ok := supervise.PortHolder(addr); ok {
		t.Fatalf("a closed port held by %+v", h)
	}
}
