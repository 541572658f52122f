// Package agenttest is what the agent's end-to-end tests stand on, apart from the agent itself: a loopback forge
// that serves the fleet repo and the apps' repos, fleets written inline as txtar archives (the way a reader sees
// them), the test app that plays every app's build and binaries, and ways to look at what runs: the processes an
// agent dir started, a binary's answer over its unix socket, a condition awaited with a deadline.
//
// It imports neither the agent package nor its sub-packages (it knows the supervisor's process marker by name), so
// that the agent's own tests and those of the packages around it (the cockpit's HTTP handlers) can share it.
package agenttest
