// Package lockbench measures what an idle poll costs the forge and the agent, with and without fleet.lock, for
// many agents polling one forge (Debian's git http-backend behind net/http/cgi, in a process of its own so its CPU
// is its own). Each simulated agent runs the agent's own sync code for an idle poll: the fleet repo's ref list
// compared with its local clone, then each of the example tester's five apps resolved through its own
// internal/source cache (the agent's a.sources), at its ref without a lock, at its locked commit with one. See
// README.md; it is not part of make test.
package lockbench
