package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// herofleet demo --check: the example fleet converges on this machine and every URL answers.
func TestDemoCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo builds every example app (about a minute)")
	}
	// The example fleet's hooks run the shipped plugins: make test builds them into $HEROFLEET_BIN; otherwise
	// build them here.
	dir := os.Getenv("HEROFLEET_BIN")
	if dir == "" {
		dir = t.TempDir()
		for _, p := range []string{"seed-git", "config-file"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "herofleet-plugin-"+p), "../herofleet-plugin-"+p).CombinedOutput()
			if err != nil {
				t.Fatalf("build plugin %s: %v\n%s", p, err, out)
			}
		}
	}
	if code := run([]string{"demo", "--check", "--plugins-dir", dir}); code != exitOK {
		t.Fatalf("herofleet demo --check exited %d", code)
	}
}
