// Package security is the published security suite: each test makes one attack on a real herofleet (the agent
// binary in a process of its own on a loopback forge, the CLI as a process, real HTTP), checks what a user would
// notice (the status code, the refusal and its reason) and that nothing leaked (the secret or credential is looked
// for in the status JSON of both listeners, the metrics, the agent's log and every file of its dir but the secrets
// dir), and records a row: the attack, what was sent, what herofleet did, a figure (bytes, memory, status codes)
// and what leaked. `make security` runs every row and writes docs/security.md (SECURITY_DOC); `make test` runs
// the same rows, all fast.
//
// The binary under test is $HEROFLEET_BIN/herofleet when HEROFLEET_BIN is set (make builds it into bin/), and
// one built from this tree into a temporary dir otherwise.
package security
