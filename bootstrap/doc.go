// Package bootstrap sets up a fresh VM's agent with no manual step: it writes the agent's config, a bearer token,
// the state directories and the agent's service files for systemd and zinit under a root directory, says what it
// changed, and starts the agent under whichever of the two init systems runs as PID 1. A second run with the same
// options changes nothing.
package bootstrap
