package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/selfup"
)

func newSelftestCommand(g *globals) *cobra.Command {
	var opts selftestOptions
	cmd := &cobra.Command{
		Use:   "selftest --config FILE",
		Short: "Check that this binary can run the agent of a config: the config, the state and the applied commit load",
		Long: `Before an agent execs a new herofleet version in its place (fleet.yaml agent:), it runs the new
binary's selftest: it loads the agent's config, the state of its dir and the applied fleet commit from the
local clone (validated and resolved for the host by this binary's rules). It changes nothing. Exit 0 when
all of it loads, 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSelftest(cmd.Context(), opts, g, streamsOf(cmd), args)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

type selftestOptions struct {
	configPath string
}

func (o *selftestOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.configPath, "config", "/etc/herofleet/agent.yaml", "the agent's config `FILE`")
}

// selftestTimeout bounds the selftest (the caller bounds it too).
const selftestTimeout = time.Minute

func runSelftest(ctx context.Context, opts selftestOptions, _ *globals, s streams, _ []string) error {
	if testFault("selftest") {
		return errors.New("selftest: fault injected (" + testFaultEnv + ")")
	}
	cfg, err := agent.LoadConfig(opts.configPath)
	if err != nil {
		return err
	}
	type result struct {
		msg string
		err error
	}
	done := make(chan result, 1)
	go func() { m, e := agent.SelfTest(cfg); done <- result{m, e} }()
	select {
	case r := <-done:
		if r.err != nil {
			return fmt.Errorf("selftest: %w", r.err)
		}
		fmt.Fprintf(s.out, "herofleet %s selftest ok: %s\n", version, r.msg)
		return nil
	case <-time.After(selftestTimeout):
		return fmt.Errorf("selftest: not done after %s", selftestTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// testFaultEnv injects faults into one version of herofleet, for the tests of an agent replacing itself (a new
// version whose selftest fails, that exits at once, hangs, or stays unhealthy): VERSION:FAULT[,VERSION:FAULT…],
// faults selftest, exit, hang, unhealthy, slow (its first converge waits 3s: a window to kill it while on trial),
// switch (it dies by SIGKILL once it recorded a switch to a new version, before the exec). Only the binary whose version is named is affected, so the variable
// passes unchanged through every exec. It is not part of the CLI's contract.
const testFaultEnv = "HEROFLEET_TEST_FAULT"

// testFault reports whether fault is injected into this version.
func testFault(fault string) bool {
	for _, f := range strings.Split(os.Getenv(testFaultEnv), ",") {
		if v, what, ok := strings.Cut(strings.TrimSpace(f), ":"); ok && v == version && what == fault {
			return true
		}
	}
	return false
}

// startSelf is what `herofleet agent` does first: exec the version the agent's dir says is current, or roll back
// one on trial that keeps crashing or ran out of time (selfup.Start), then tell the agent which binary runs it.
func startSelf(cfg *agent.Config, configPath string, log *slog.Logger) agent.Self {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	trial := selfup.Start(cfg.Dir, selfup.Version{Version: version, Exe: exe}, time.Now(), log)
	self := agent.Self{Version: version, Exe: exe, ConfigPath: configPath, Args: os.Args, Trial: trial}
	switch {
	case testFault("exit"):
		log.Error("fault injected: exiting at once", "env", testFaultEnv)
		os.Exit(3)
	case testFault("unhealthy"):
		self.Fault = func() error { return errors.New("fault injected: this version never converges") }
	case testFault("hang"):
		self.Fault = func() error { select {} }
	case testFault("switch"):
		self.BeforeExec = func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	case testFault("slow"):
		var once sync.Once
		self.Fault = func() error { once.Do(func() { time.Sleep(3 * time.Second) }); return nil }
	}
	return self
}
