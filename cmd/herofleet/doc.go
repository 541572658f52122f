// Command herofleet runs a tester fleet from one git repo: it validates and plans the fleet repo, runs the agent
// on every VM, renders the runbook site and sets up fresh VMs.
package main
