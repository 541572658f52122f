package agenttest

import (
	"testing"
	"time"
)

// PollInterval is how often WaitUntil checks its condition.
const PollInterval = 20 * time.Millisecond

// WaitUntil checks cond every PollInterval until it holds, and fails the test naming what it waited for when it
// does not hold within timeout.
func WaitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(PollInterval)
	}
}
