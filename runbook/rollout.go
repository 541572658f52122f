package runbook

import (
	"fmt"
	"strings"

	"github.com/herofleet/herofleet/internal/redact"
)

// rollout is the procedures page on the fleet's rollout waves: which hosts take a commit first, what holds the
// others, and how a person stops a bad rollout or pushes one through, always in git.
func (w writer) rollout() string {
	r := w.f.Meta.Rollout
	var b strings.Builder
	if len(r.Waves) < 2 {
		b.WriteString("This fleet has no rollout waves: every VM applies a new fleet commit at its next sync. To let a " +
			"few testers take each commit first, add to `fleet.yaml`:\n\n```yaml\nrollout:\n  waves:\n" +
			"    - {name: canary, hosts: [<host>]}\n    - {name: rest}\n  bake: 10m\n" +
			"  health: {prometheus: \"http://<admin-vm>:9090\"}\n```\n\n" +
			"and a Prometheus that scrapes every agent (`herofleet prometheus config`, `targets` and `rules` write its files).\n")
		return b.String()
	}
	fmt.Fprintf(&b, "A new fleet commit reaches the VMs wave after wave. A VM of a later wave applies it only once "+
		"every VM of the earlier waves has applied it and stayed healthy on it for the bake (**%s**), as the fleet's "+
		"Prometheus (`%s`) reports. Each agent decides for itself, from the commit and Prometheus: there is no "+
		"coordinator to fail.\n\n", r.BakeOrDefault(), redact.Text(r.Health.Prometheus))
	b.WriteString("## The waves\n\n| wave | VMs |\n|---|---|\n")
	for i, wv := range w.f.Waves() {
		var hosts []string
		for _, h := range wv.Hosts {
			hosts = append(hosts, hostLink(h))
		}
		if wave := r.Waves[i]; wave.CatchAll() {
			hosts = append(hosts, "every VM without a host file")
		}
		how := ""
		if p := r.Waves[i].Percent; p > 0 {
			how = fmt.Sprintf(" (%d%% of the VMs no wave names, by a stable hash of the name)", p)
		}
		list := strings.Join(hosts, ", ")
		if list == "" {
			list = "(none)"
		}
		fmt.Fprintf(&b, "| %s%s | %s |\n", wv.Name, how, list)
	}
	b.WriteString("\n`herofleet plan` names each VM's wave; `herofleet validate` refuses a wave naming an unknown VM, " +
		"a VM in two waves, or waves that leave VMs out.\n\n")
	b.WriteString("## Follow a rollout\n\n```sh\nherofleet rollout status .\n```\n\n" +
		"shows each wave's VMs: which applied the fleet's HEAD, which are healthy, how long until the bake is done, and " +
		"what holds the next wave. On a held VM, `herofleet status` and the cockpit header show the fleet state " +
		"`waiting` and the reason, for example `wave canary: tester-07 not healthy on 5d6e7f8: books quarantined`.\n\n" +
		"No answer is a no: if Prometheus is down, has no series for a VM of an earlier wave, or a query fails, the " +
		"later waves hold and say so. They follow at their next sync once Prometheus answers again. A VM's first " +
		"commit, a one-click install and an app that is missing are never held.\n\n")
	b.WriteString("## Stop a bad rollout\n\n" +
		"A commit that fails on an earlier wave (an app rolled back and quarantined, a crashloop) already holds every " +
		"later wave: nothing more needs to happen for the other testers to be safe. To end it, push a newer commit, " +
		"usually the revert:\n\n```sh\ngit revert <bad-commit> && git push\n```\n\n" +
		"The earlier waves apply it at once; the later ones take it once the earlier ones are healthy on it for the " +
		"bake. The VMs of later waves never saw the bad commit.\n\n")
	b.WriteString("## Push a rollout through\n\n" +
		"Sometimes a commit must reach everyone now (a fix for an outage) or an earlier wave is unhealthy for a reason " +
		"that has nothing to do with the commit. Do it deliberately, in git, where it is reviewed and recorded:\n\n" +
		"1. Commit a `fleet.yaml` whose first wave holds the VMs that must move (or one wave `{name: all}`), with a " +
		"message saying why: `git commit -m \"rollout: push <commit> through: <why>\"`. A first wave never waits.\n" +
		"2. Watch `herofleet rollout status .` until every VM is on it.\n" +
		"3. Restore the waves in the next commit.\n\n" +
		"Never stop Prometheus or edit a VM to get a commit through: a VM without an answer holds, by design.\n")
	return b.String()
}
