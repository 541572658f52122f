package fleet

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DefaultAgentPort is the port of an agent's metrics_listen that fleet tools assume when a host file names none.
const DefaultAgentPort = "7072"

// AgentURL is where fleet tools (fleet status, the Prometheus targets) reach host's agent: the host file's agent,
// else http://<address>:7072, the address defaulting to the host's name. h may be nil (a host without a file).
func AgentURL(name string, h *Host) string {
	if h != nil && h.Agent != "" {
		return strings.TrimRight(h.Agent, "/")
	}
	addr := name
	if h != nil && h.Address != "" {
		addr = h.Address
	}
	return "http://" + JoinHostPort(addr, DefaultAgentPort)
}

// JoinHostPort joins an address that may already carry IPv6 brackets ("[4a5::7]") and a port.
func JoinHostPort(addr, port string) string {
	return net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), port)
}

// checkAgentURL accepts http(s)://HOST:PORT and nothing more: no credentials (it is printed and scraped), no path.
func checkAgentURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q must be http://HOST:PORT or https://HOST:PORT", raw)
	case u.User != nil:
		return errors.New("must not carry credentials: the metrics listener needs none")
	case u.Hostname() == "" || u.Port() == "":
		return fmt.Errorf("%q must name a host and a port", raw)
	case strings.TrimRight(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q must be http://HOST:PORT, without a path", raw)
	}
	return nil
}
