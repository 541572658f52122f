package bootstrap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/packaging"
)

// Where bootstrap puts things on the VM (under Options.Root).
const (
	ConfigPath = "/etc/herofleet/agent.yaml"
	TokenPath  = "/etc/herofleet/token"
	EtcDir     = "/etc/herofleet"
	SecretsDir = "/etc/herofleet/secrets"
	// IdentityPath is the host's age identity: the fleet's secrets/<host>/*.age are encrypted to its recipient.
	IdentityPath = "/etc/herofleet/host.key"
	StateDir     = "/var/lib/herofleet"
	PluginsDir   = "/usr/lib/herofleet/plugins"
	UnitPath     = "/etc/systemd/system/herofleet-agent.service"
	ZinitPath    = "/etc/zinit/herofleet-agent.yaml"
	Listen       = "127.0.0.1:7070"
	DefaultBin   = "/usr/bin/herofleet"
	DefaultRef   = fleet.DefaultRef
	defaultRoot  = "/"
)

// Options are bootstrap's flags.
type Options struct {
	Fleet   string            // the fleet repo's git URL
	Ref     string            // branch, tag or commit of the fleet repo (main)
	Host    string            // this VM's host name in the fleet (default: the machine's host name)
	Role    string            // used when the fleet has no hosts/<host>.yaml
	Address string            // how other VMs reach this one (default: the agent uses the host name)
	Rewrite map[string]string // URL prefix rewrites, like git's insteadOf
	Root    string            // write everything under this directory; "" or "/" is the running system
	Bin     string            // the herofleet binary the service runs (DefaultBin)
}

// OnRunningSystem reports whether bootstrap writes to the running system (and so may start the agent).
func (o *Options) OnRunningSystem() bool { return o.Root == "" || o.Root == defaultRoot }

// Fleet's name rule (fleet/vars.go): host and role names become file names in the fleet repo.

// Check fills in defaults and reports every bad option at once.
func (o *Options) Check() error {
	if o.Ref == "" {
		o.Ref = DefaultRef
	}
	if o.Bin == "" {
		o.Bin = DefaultBin
	}
	if o.Host == "" {
		o.Host = machineHost()
	}
	var probs []string
	if o.Fleet == "" {
		probs = append(probs, "--fleet is required: the fleet repo's git URL")
	} else if err := fleet.CheckRepoURL(o.Fleet); err != nil {
		probs = append(probs, "--fleet: "+err.Error())
	}
	if err := fleet.CheckRef(o.Ref); err != nil {
		probs = append(probs, "--ref: "+err.Error())
	}
	if o.Role == "" {
		probs = append(probs, "--role is required (tester, admin, …)")
	} else if !fleet.ValidName(o.Role) {
		probs = append(probs, fmt.Sprintf("--role %q does not match %s", o.Role, fleet.NamePattern))
	}
	switch {
	case o.Host == "":
		probs = append(probs, "--host is required: this machine's host name is not usable as a fleet host name")
	case !fleet.ValidName(o.Host):
		probs = append(probs, fmt.Sprintf("--host %q does not match %s", o.Host, fleet.NamePattern))
	}
	if strings.ContainsAny(o.Address, " \t\r\n/") {
		probs = append(probs, fmt.Sprintf("--address %q is not a host name or address", o.Address))
	}
	for from, to := range o.Rewrite {
		if from == "" || to == "" {
			probs = append(probs, fmt.Sprintf("--rewrite %q=%q: write FROM=TO, both non-empty", from, to))
		}
	}
	if err := o.service().Check(); err != nil {
		probs = append(probs, "--bin: "+err.Error())
	} else if o.OnRunningSystem() && !executable(o.Bin) {
		probs = append(probs, fmt.Sprintf("--bin %s is not an executable file here: install herofleet there or pass --bin PATH", o.Bin))
	}
	if !o.OnRunningSystem() {
		if abs, err := filepath.Abs(o.Root); err != nil {
			probs = append(probs, fmt.Sprintf("--root %q: %v", o.Root, err))
		} else {
			o.Root = abs
		}
	}
	if len(probs) > 0 {
		sort.Strings(probs)
		return errors.New(strings.Join(probs, "\n"))
	}
	return nil
}

// service is what the agent's service files point at: the binary, and the config and secrets dir bootstrap writes
// (the unit gives the agent write access to that dir).
func (o *Options) service() packaging.Service {
	return packaging.Service{Bin: o.Bin, Config: ConfigPath, SecretsDir: SecretsDir}
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// machineHost is the machine's host name as a fleet name: the first label, lower case; "" when unusable.
func machineHost() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	h, _, _ = strings.Cut(strings.ToLower(h), ".")
	if !fleet.ValidName(h) {
		return ""
	}
	return h
}
