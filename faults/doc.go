// Package faults is the fault-injection suite: each test injects one fault into a real agent (the herofleet
// binary in a process of its own, on a loopback forge) and real binaries, checks what a user would notice, and
// records a row: what was injected, what the agent did, the figure (time back, restarts, peak memory read from
// /proc, requests), and whether anything was lost. `make faults` runs every row (FAULTS=all) and writes
// docs/faults.md (FAULTS_DOC); `make test` runs the fast rows only.
//
// The rows that kill the agent in an apply phase, or send a person's controls during one, hold the work at a gate
// instead of racing it: heldForge stops a fetch half-way through its pack until released, and the test app holds
// its build, its /health or a SIGTERM while a gate file exists (gated_test.go).
package faults
