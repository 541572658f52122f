//go:build !linux

package plugins

import (
	"os"
	"os/exec"
)

func setProcessAttrs(*exec.Cmd) {}

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
