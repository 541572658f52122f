// Package fleet is the fleet repo model: it loads a fleet from a directory or a git commit, decodes it strictly
// (unknown keys are errors, every error carries file:line:col), validates it, resolves the desired app set of a
// host or role, and plans what a change to the fleet does to each of them.
//
// fleet imports none of herofleet's other packages: the agent, the runbook and the plugins build on it.
package fleet
