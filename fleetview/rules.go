package fleetview

import (
	"fmt"
	"strings"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/promapi"
)

// RulesOptions tune the alerting rules.
type RulesOptions struct {
	SyncPeriod time.Duration // the fleet's sync period (fleet.yaml sync.schedule): 1m by default
	Periods    int           // how many sync periods a host may lag behind its newest commit: 3 by default
}

// Rules is the Prometheus rule file of the fleet's alerts. Each alert names the host (instance) and says what to
// look at; none of them needs a label that grows with the fleet's history. None names a scrape job: they select
// the agents' own series, so any scrape configuration works (herofleet prometheus config's, or an operator's own
// job, static targets, relabelling). One recording rule, herofleet:agent_target, remembers each target that is an
// agent (by its herofleet_host_info) while Prometheus scrapes it, failing or not: an agent that cannot be scraped
// has no series of its own left. An agent Prometheus never scraped is not known as one (fleet status lists its
// host file as one no scraped agent reports).
//
//   - HerofleetHostNotOnHead: the host has seen a newer fleet commit than it runs, for longer than N sync periods
//     (not while it holds the commit for the earlier rollout waves: that is the rollout working).
//   - HerofleetRolloutHeld: the host has held a commit for the earlier rollout waves for over an hour.
//   - HerofleetCommitRefused: the newest fleet commit was refused; the host keeps the last good one.
//   - HerofleetAppQuarantined: an app failed to apply, was rolled back and waits for its spec to change.
//   - HerofleetBinaryCrashlooping: a binary keeps exiting; the supervisor backs off.
//   - HerofleetAgentStale: Prometheus cannot scrape the agent, or its last sync is older than N sync periods.
func Rules(o RulesOptions) string {
	if o.SyncPeriod <= 0 {
		o.SyncPeriod = time.Minute
	}
	if o.Periods <= 0 {
		o.Periods = 3
	}
	lag := model(time.Duration(o.Periods) * o.SyncPeriod)
	n := fmt.Sprint(o.Periods)
	r := strings.NewReplacer("{{lag}}", lag, "{{n}}", n,
		"{{agent-target}}", api.RecordAgentTarget,
		"{{agent-target-expr}}", fmt.Sprintf("group by (%s, %s) (%s) or (%s and on (%s) up)",
			promapi.TargetLabels, api.LabelHost, api.SeriesHostInfo, api.RecordAgentTarget, promapi.TargetLabels),
		"{{not-scraped}}", fmt.Sprintf("up == 0 and on (%s) %s", promapi.TargetLabels, api.RecordAgentTarget),
		"{{not-on-head}}", fmt.Sprintf("%s unless on (job, instance, %s) %s unless on (job, instance) %s",
			api.SeriesFleetHead, api.LabelCommit, api.SeriesFleetApplied, with(api.SeriesFleetApplied, api.LabelState, string(api.SyncWaiting))),
		"{{rollout-held}}", fmt.Sprintf("time() - %s > 3600", api.SeriesRolloutWaiting),
		"{{commit-refused}}", with(api.SeriesFleetApplied, api.LabelState, string(api.SyncRefused))+" == 1",
		"{{app-quarantined}}", api.SeriesAppQuarantined+" == 1",
		"{{binary-crashlooping}}", with(api.SeriesBinaryState, api.LabelState, string(api.BinCrashloop))+" == 1",
		"{{not-synced}}", fmt.Sprintf("(time() - %s) > %s * %s", api.SeriesFleetLastSync, n, api.SeriesSyncPeriod))
	return r.Replace(rulesTemplate)
}

// with selects the samples of a series whose label has a value: series{label="value"}.
func with(series, label, value string) string {
	return series + "{" + label + "=" + promapi.Quote(value) + "}"
}

// rulesTemplate is the rule file; Rules fills in the expressions, built from package api's names.
const rulesTemplate = `# Alerting rules of a herofleet fleet (and the one series they record), written by herofleet prometheus rules.
groups:
  - name: herofleet
    rules:
      - record: {{agent-target}}
        expr: {{agent-target-expr}}
      - alert: HerofleetHostNotOnHead
        expr: {{not-on-head}}
        for: {{lag}}
        labels: {severity: warning}
        annotations:
          summary: "{{ $labels.instance }} has not applied fleet commit {{ $labels.commit }} after {{n}} sync periods"
          description: "Run: herofleet fleet status; the host's cockpit says which app holds it (a maintenance window, a suspend, a failing apply)."
      - alert: HerofleetRolloutHeld
        expr: {{rollout-held}}
        labels: {severity: info}
        annotations:
          summary: "{{ $labels.instance }} has held fleet commit {{ $labels.commit }} for the earlier rollout waves for over an hour"
          description: "Run: herofleet rollout status; an earlier wave is not healthy on the commit (stop it with a newer commit, or push it through in git: runbook procedures/rollout)."
      - alert: HerofleetCommitRefused
        expr: {{commit-refused}}
        labels: {severity: warning}
        annotations:
          summary: "{{ $labels.instance }} refused the newest fleet commit; it keeps running {{ $labels.commit }}"
          description: "GET /api/v1/status on the host lists the refused commit and why (validation, signature, rewind)."
      - alert: HerofleetAppQuarantined
        expr: {{app-quarantined}}
        labels: {severity: warning}
        annotations:
          summary: "{{ $labels.app }} is quarantined on {{ $labels.instance }}"
          description: "Its apply failed and was rolled back; it stays quarantined until its spec (rev, build, binaries, hooks) changes."
      - alert: HerofleetBinaryCrashlooping
        expr: {{binary-crashlooping}}
        for: 1m
        labels: {severity: warning}
        annotations:
          summary: "{{ $labels.binary }} ({{ $labels.app }}) is crashlooping on {{ $labels.instance }}"
          description: "herofleet logs {{ $labels.binary }} on the host shows why it exits."
      - alert: HerofleetAgentStale
        expr: >-
          {{not-scraped}}
          or {{not-synced}}
        for: {{lag}}
        labels: {severity: critical}
        annotations:
          summary: "the agent of {{ $labels.instance }} is stale: not scraped, or no sync for {{n}} sync periods"
          description: "Check the VM and its herofleet agent service; the host keeps running what it had."
`
