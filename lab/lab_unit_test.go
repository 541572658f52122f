package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/fleet"
)

func TestWriteFleetIsTheExampleOnTheLabsMachines(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fleet")
	if err := WriteFleet(dir, hosts, "1", Timing{Schedule: "@every 5s", Bake: "45s"}); err != nil {
		t.Fatal(err)
	}
	f, err := fleet.LoadDir(dir)
	if err != nil {
		t.Fatalf("the lab's fleet does not load: %v", err)
	}
	if len(f.Hosts) != len(hosts) {
		t.Errorf("hosts %v, want the lab's %d machines only", f.HostNames(), len(hosts))
	}
	for _, h := range hosts {
		got := f.Hosts[h.Name]
		if got == nil || got.Role != h.Role || got.Address != "["+Addr(h.Part)+"]" {
			t.Errorf("host %s: %+v, want role %s at [%s]", h.Name, got, h.Role, Addr(h.Part))
		}
	}
	if f.Meta.Rollout.Health.Prometheus != "http://["+Addr("1")+"]:9090" || f.Meta.Rollout.Bake.String() != "45s" {
		t.Errorf("rollout %+v, want the admin machine's Prometheus and a 45s bake", f.Meta.Rollout)
	}
	if err := WriteHost(dir, hosts[1], "age1abc"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "hosts", hosts[1].Name+".yaml"))
	if !strings.Contains(string(b), "recipient: age1abc\n") {
		t.Errorf("host file without its recipient:\n%s", b)
	}
}

func TestUserDataIsTheBootstrapLine(t *testing.T) {
	tester := UserData(hosts[1], "http://[fd5a:1c2:9e3::fe]:3000/", "http://[fd5a:1c2:9e3::fe]:3000/ops/hero-fleet.git")
	for _, want := range []string{"#!/bin/sh\n", "herofleet bootstrap --fleet http://[fd5a:1c2:9e3::fe]:3000/ops/hero-fleet.git --role tester --host tester-07 --address '[fd5a:1c2:9e3::7]' --rewrite https://forge.ourworld.tf/=http://[fd5a:1c2:9e3::fe]:3000/\n"} {
		if !strings.Contains(tester, want) {
			t.Errorf("tester user data lacks %q:\n%s", want, tester)
		}
	}
	if strings.Contains(tester, "prometheus") {
		t.Errorf("a tester configures Prometheus:\n%s", tester)
	}
	admin := UserData(hosts[0], "http://x/", "http://x/f.git")
	if !strings.Contains(admin, "herofleet prometheus config /root/hero-fleet > /etc/prometheus/prometheus.yml") || !strings.Contains(admin, "systemctl enable --now prometheus") {
		t.Errorf("admin user data does not set up Prometheus:\n%s", admin)
	}
}

func TestImageKeyFollowsThePackageList(t *testing.T) {
	a := ImageKey("http://m/debian", []string{"systemd-sysv", "git"})
	if a != ImageKey("http://m/debian", []string{"systemd-sysv", "git"}) {
		t.Error("the same list gives two keys")
	}
	if a == ImageKey("http://m/debian", []string{"systemd-sysv", "git", "curl"}) || a == ImageKey("http://other/debian", []string{"systemd-sysv", "git"}) {
		t.Error("another package list or mirror gives the same key: a stale image would be reused")
	}
}

func TestReportRowsAreOneLineEach(t *testing.T) {
	r := &Report{}
	r.Note("image: cached")
	r.Add(Row{Scenario: "reboot", Done: "a | b\nc", Happened: "ok", Pass: true})
	r.Add(Row{Scenario: "power cut", Pass: false})
	md := string(r.Markdown())
	if !strings.Contains(md, "| reboot **ok** | a \\| b<br>c | ok |") {
		t.Errorf("row not escaped:\n%s", md)
	}
	if !strings.Contains(md, "| power cut **FAILED** |") || !strings.Contains(md, "- image: cached\n") {
		t.Errorf("report:\n%s", md)
	}
}
