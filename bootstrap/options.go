package bootstrap

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
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
	Address string            // how other VMs reach this one (default: the agent uses the host name); MetricsListen binds it
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
	if err := checkAddress(o.Address); err != nil {
		probs = append(probs, err.Error())
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

// MetricsListen is the agent's read-only listener (/metrics, /healthz, /api/v1/status) that bootstrap writes as
// metrics_listen: the address on fleet.DefaultAgentPort, exactly where fleet tools (herofleet prometheus targets,
// fleet status) look for a host whose file names no agent URL (fleet.AgentURL). "" without an address: the agent
// then serves its metrics only on the loopback cockpit, which no other VM can scrape.
func (o *Options) MetricsListen() string {
	if o.Address == "" {
		return ""
	}
	return fleet.JoinHostPort(o.Address, fleet.DefaultAgentPort)
}

// checkAddress accepts a host name, an IPv4 address, or an IPv6 address bare or in brackets: what the agent can
// bind metrics_listen to on fleet.DefaultAgentPort. A port of its own is refused (the port is the fleet's).
func checkAddress(a string) error {
	if a == "" {
		return nil
	}
	bad := func(why string) error { return fmt.Errorf("--address %q %s", a, why) }
	if strings.ContainsAny(a, " \t\r\n/") {
		return bad("is not a host name or address")
	}
	if _, port, err := net.SplitHostPort(a); err == nil {
		return bad("carries a port (" + port + "): write the address alone, the agent's metrics port is " + fleet.DefaultAgentPort)
	}
	host := a
	if strings.HasPrefix(a, "[") || strings.HasSuffix(a, "]") {
		if len(a) < 2 || a[0] != '[' || a[len(a)-1] != ']' {
			return bad("has unbalanced brackets: write [IPv6] or IPv6")
		}
		host = a[1 : len(a)-1]
		if ip, err := netip.ParseAddr(host); err != nil || !ip.Is6() {
			return bad("puts brackets around something that is not an IPv6 address")
		}
	}
	if strings.ContainsAny(host, "[]") {
		return bad("is not a host name or address")
	}
	if strings.Contains(host, ":") {
		if _, err := netip.ParseAddr(host); err != nil {
			return bad("is neither an IPv6 address nor a host name")
		}
	}
	if _, _, err := net.SplitHostPort(fleet.JoinHostPort(a, fleet.DefaultAgentPort)); err != nil {
		return bad("is not a host name or address")
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
