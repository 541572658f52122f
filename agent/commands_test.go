package agent

import (
	"errors"
	"testing"

	"github.com/herofleet/herofleet/api"
)

// clickFleet: alpha is preinstalled, beta installs on click.
const clickFleet = `
-- fleet.yaml --
name: click
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [alpha]
catalog: [beta]
-- apps/alpha.yaml --
source: {repo: https://forge.test/apps/alpha.git, ref: main}
build: {command: [{{testapp}}, build, target/release/a1], timeout: 1m}
binaries:
  - {name: a1, kind: server, path: target/release/a1, args: [--listen, "unix://${sockets}/a1.sock"], listen: "unix://${sockets}/a1.sock", health: /health}
-- apps/beta.yaml --
source: {repo: https://forge.test/apps/beta.git, ref: main}
build: {command: [{{testapp}}, build, target/release/b1], timeout: 1m}
binaries:
  - {name: b1, kind: server, path: target/release/b1, args: [--listen, "unix://${sockets}/b1.sock"], listen: "unix://${sockets}/b1.sock", health: /health}
`

// A click and an uninstall that cross before the converge: an install job never stays open for work that will not
// run, and an app clicked again before its removal ran stays installed.
func TestClickUninstallCross(t *testing.T) {
	h := newHarness(t)
	h.commitApp("alpha")
	h.commitApp("beta")
	h.commitFleet(clickFleet)
	a := h.newAgent(nil)
	mustSync(t, a)

	j1, err := a.Install("beta")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Uninstall("beta"); err != nil {
		t.Fatal(err)
	}
	if j, _ := a.JobStatus(j1.ID); j.Phase != api.PhaseFailed || j.Error != "uninstalled before the install finished" {
		t.Fatalf("the job of an install uninstalled before it ran: %+v", j)
	}
	mustSync(t, a)
	if as := appOf(a.Status(), "beta"); as.State != api.AppNotInstalled || as.Phase != "" {
		t.Fatalf("beta after the crossed click: %+v", as)
	}

	if _, err := a.Install("beta"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Install("beta"); !errors.Is(err, ErrInstalled) {
		t.Fatalf("a second click: %v", err)
	}
	mustSync(t, a)
	pid := binOf(t, a.Status(), "beta").PID
	if err := a.Uninstall("beta"); err != nil {
		t.Fatal(err)
	}
	j3, err := a.Install("beta") // clicked again before the removal ran
	if err != nil {
		t.Fatalf("a click after an uninstall whose removal has not run: %v", err)
	}
	mustSync(t, a)
	st := a.Status()
	if as := appOf(st, "beta"); as.State != api.AppInstalled || !as.Clicked || binOf(t, st, "beta").PID != pid {
		t.Fatalf("beta was not kept as it ran: %+v", as)
	}
	if j, _ := a.JobStatus(j3.ID); j.Phase != api.PhaseHealthy {
		t.Fatalf("the job of the click that kept it: %+v", j)
	}
}
