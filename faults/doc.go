// Package faults is the fault-injection suite: each test injects one fault into a real agent (the herofleet
// binary in a process of its own, on a loopback forge) and real binaries, checks what a user would notice, and
// records a row: what was injected, what the agent did, the figure (time back, restarts, peak memory read from
// /proc, requests), and whether anything was lost. `make faults` runs every row (FAULTS=all) and writes
// docs/faults.md (FAULTS_DOC); `make test` runs the fast rows only.
package faults
