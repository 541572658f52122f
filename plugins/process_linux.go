package plugins

import (
	"os/exec"
	"syscall"
)

// setProcessAttrs puts the plugin in a process group of its own, so that killGroup also ends anything it started,
// and has the kernel kill it if the agent dies: no plugin outlives the agent, even after a SIGKILL.
func setProcessAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
