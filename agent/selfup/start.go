package selfup

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"syscall"
	"time"
)

// ExecsEnv counts the execs a start made to reach the current version, against a loop (a current version whose
// binary execs another, which execs it back).
const ExecsEnv = "HEROFLEET_AGENT_EXECS"

// maxExecs is how many start-time execs one start may chain.
const maxExecs = 3

// Exec replaces the process with exe, the same argv and environment (syscall.Exec: same pid, so systemd, zinit
// or a shell keeps it; the apps, its children, stay its children). A variable for tests of this package.
var Exec = func(exe string, argv, env []string) error {
	return syscall.Exec(exe, argv, env)
}

// Trial is what a start found: the version it runs is unconfirmed and must finish a healthy converge by Deadline.
type Trial struct {
	Version       string
	Deadline      time.Time
	HealthyBefore bool
}

// Start is what any binary that starts the agent does first with the agent's dir: exec the version the dir says is
// current (a restart never reverts the agent to the packaged version), or roll back an unconfirmed current version
// that keeps crashing (started MaxStarts times) or whose deadline passed, then exec the version it came back to.
// self is this binary (its version and executable). It returns only when this process is to run the agent: with a
// trial when the version it runs is unconfirmed. Errors are logged, never fatal: the agent runs as it is.
func Start(agentDir string, self Version, now time.Time, log *slog.Logger) *Trial {
	r, err := Load(agentDir)
	if err != nil {
		log.Error("agent version record unreadable; running this binary as it is", "err", err)
		return nil
	}
	if r == nil {
		return nil
	}
	if !r.Confirmed {
		var why string
		switch {
		case !r.Deadline.IsZero() && now.After(r.Deadline):
			why = fmt.Sprintf("agent %s did not finish a healthy converge by its deadline %s", r.Current.Version, r.Deadline.UTC().Format(time.RFC3339))
		case r.Starts >= MaxStarts:
			why = fmt.Sprintf("agent %s was started %d times without finishing a healthy converge (it crashed or was killed)", r.Current.Version, r.Starts)
		}
		rolledBack := false
		switch {
		case why != "" && r.RollBack(why, now):
			log.Error("agent version rolled back", "to", r.Current.Version, "why", why)
			rolledBack = true
		case sameExe(r.Current.Exe, self.Exe):
			r.Starts++ // counted by the process that runs it, not by a binary on its way to exec it
		}
		err := Save(agentDir, r)
		switch {
		case err != nil:
			log.Error("agent version record not saved", "err", err)
		case rolledBack:
			r.Prune(agentDir) // two versions on disk at most: the failed one goes
		}
	}
	if !sameExe(r.Current.Exe, self.Exe) {
		execs, _ := strconv.Atoi(os.Getenv(ExecsEnv))
		switch {
		case execs >= maxExecs:
			log.Error("agent version loop: not exec'ing again; running this binary", "current", r.Current.Version, "execs", execs)
		default:
			if _, err := os.Stat(r.Current.Exe); err != nil {
				log.Error("current agent version missing; running this binary", "current", r.Current.Version, "err", err)
				break
			}
			log.Info("exec'ing the current agent version", "version", r.Current.Version, "exe", r.Current.Exe, "from", self.Version)
			env := setEnv(os.Environ(), ExecsEnv, strconv.Itoa(execs+1))
			err := Exec(r.Current.Exe, os.Args, env)
			log.Error("exec of the current agent version failed; running this binary", "err", err)
		}
		return nil
	}
	if r.Confirmed {
		return nil
	}
	return &Trial{Version: r.Current.Version, Deadline: r.Deadline, HealthyBefore: r.HealthyBefore}
}

// sameExe reports whether two paths name the same executable file.
func sameExe(a, b string) bool {
	if a == b {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// setEnv is env with key set to value (replaced when present).
func setEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if len(kv) > len(key) && kv[:len(key)+1] == key+"=" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, key+"="+value)
}

// ExecEnv is the environment an agent execs a version with: its own, the start-time exec count reset.
func ExecEnv() []string { return setEnv(os.Environ(), ExecsEnv, "0") }
