package main

import (
	"testing"
)

// herofleet demo --check: the example fleet converges on this machine and every URL answers.
func TestDemoCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo builds every example app (about a minute)")
	}
	if code := run([]string{"demo", "--check"}); code != exitOK {
		t.Fatalf("herofleet demo --check exited %d", code)
	}
}
