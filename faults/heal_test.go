package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// kill -9 of the agent in the middle of a heal: a person replaced the installed books_server executable; the
// agent's heal has put the installed file back and waits for the hand-started process to stop (it holds its
// SIGTERM) when it is killed. The executable is never missing, and the agent started again ends with books whole,
// running the installed build, the person's copy kept.
func TestKillAgentDuringAHeal(t *testing.T) {
	g := startGated(t, "preinstalled: [books]")
	agenttest.WaitUntil(t, 20*time.Second, "books installed", func() bool { return runsExactly(g.dir, g.state().Apps["books"]) })
	inst := g.state().Apps["books"]
	exe := inst.Binaries[0].Path
	want, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	// another build copied over it (the running process keeps its own, now deleted, file)
	if err := os.Remove(exe); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, append(append([]byte{}, want...), "by hand"...), 0o755); err != nil {
		t.Fatal(err)
	}
	g.close("stop")
	g.sync()
	agenttest.WaitUntil(t, 60*time.Second, "the heal stopping books_server", func() bool {
		_, err := os.Stat(filepath.Join(g.gates, "stop.books_server.term"))
		return err == nil
	})
	if _, err := os.Stat(filepath.Join(g.gates, "stop.books_web.term")); err == nil {
		t.Fatal("the heal stopped books_web, which it does not concern")
	}
	seen := g.app("books")
	web := 0
	for _, b := range seen.Binaries {
		if b.Name == "books_web" {
			web = b.PID
		}
	}
	g.kill9()
	got, err := os.ReadFile(exe)
	if err != nil {
		t.Fatalf("killed mid-heal, the executable is missing: %v", err)
	}
	atKill := "the installed one"
	if string(got) != string(want) {
		atKill = "the hand copy"
	}

	g.openGates()
	start := time.Now()
	g.start()
	var st = g.app("books")
	agenttest.WaitUntil(t, 60*time.Second, "books whole on the installed build", func() bool {
		st = g.app("books")
		b, _ := os.ReadFile(exe)
		return st.State == api.AppInstalled && st.Code == "" && string(b) == string(want) && runsExactly(g.dir, g.state().Apps["books"])
	})
	took := time.Since(start)
	for _, b := range st.Binaries {
		if b.Name == "books_web" && (b.PID != web || web == 0) {
			t.Fatalf("books_web, which the heal did not concern, is pid %d after the restart, was %d: not adopted", b.PID, web)
		}
	}
	kept, _ := filepath.Glob(filepath.Join(g.dir, "drift", "books", "*-books_server"))
	if len(kept) != 1 {
		t.Fatalf("the person's copy: %v", kept)
	}
	if b, _ := os.ReadFile(kept[0]); string(b) != string(want)+"by hand" {
		t.Fatal("the kept copy is not the person's")
	}
	record(Row{
		Fault: "`kill -9` of the agent during a heal",
		Injected: fmt.Sprintf("books_server's executable replaced by hand; the agent's heal put the installed file back and waited for books_server to stop (it held its SIGTERM) when the agent was killed (the status showed books %q)",
			seen.Reason),
		Did:    "the new agent adopted books_web, which still ran as started (same pid), and started books_server again from its state: the installed build (its old process, whose executable was no longer the one started, was not adopted); its first poll found nothing drifted",
		Figure: fmt.Sprintf("at the kill the executable was %s, never missing; books whole %s after the restart", atKill, took.Round(time.Millisecond)),
		Lost:   "nothing: the person's copy kept under <dir>/drift/books/",
	})
}
