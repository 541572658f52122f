// Package agentupgrade measures an agent upgrade through the fleet (a fleet.yaml `agent:` block naming v2, the
// agent execs it in place and adopts its apps) beside the upgrade as it was before: the agent stopped, its apps
// stopped with `herofleet agent stop-apps`, v2 started on the same dir. Both run real herofleet processes; the
// figures are the time to the new agent converged and the downtime of an app polled every 50 ms. See README.md.
package agentupgrade
