package fleet

import (
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
)

// Listen is a parsed listen address.
type Listen struct {
	Network string // "tcp" or "unix"
	Address string // host:port, or a socket path
}

// ParseListen reads a binary's listen address with its variables expanded.
func ParseListen(s string, v Vars) (Listen, error) { return parseListen(s, v) }

// parseListen reads tcp://HOST:PORT or unix://PATH, variables expanded.
func parseListen(s string, v Vars) (Listen, error) {
	exp, err := Expand(s, v)
	if err != nil {
		return Listen{}, err
	}
	network, addr, ok := strings.Cut(exp, "://")
	switch {
	case !ok:
		return Listen{}, fmt.Errorf("%q must be tcp://HOST:PORT or unix://PATH", s)
	case network == "tcp":
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return Listen{}, fmt.Errorf("%q: %v", s, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Listen{}, fmt.Errorf("%q: port must be a number from 1 to 65535", s)
		}
		if strings.Contains(host, " ") {
			return Listen{}, fmt.Errorf("%q: bad host", s)
		}
		return Listen{Network: "tcp", Address: addr}, nil
	case network == "unix":
		if !path.IsAbs(addr) && !strings.HasPrefix(s, "unix://${") {
			return Listen{}, fmt.Errorf("%q: a socket path is absolute or starts with ${sockets} or ${data}", s)
		}
		return Listen{Network: "unix", Address: addr}, nil
	}
	return Listen{}, fmt.Errorf("%q: scheme %q is not tcp or unix", s, network)
}

// symbolicVars stand for values only an agent knows, so that two strings can be compared.
func symbolicVars(app string) Vars {
	return Vars{App: app, Data: "${data}/" + app, Host: "${host}", Rev: "${rev}", Sockets: "${sockets}", Secrets: "${secrets}"}
}

// listenKey is what two binaries on one host must not share.
type listenKey struct {
	network, addr string // tcp: port; unix: path
	host          string // tcp only: the interface
}

// keyOf is what a listen address occupies on its host: a socket path, or a port on an interface (* for all).
func keyOf(l Listen) listenKey {
	if l.Network == "unix" {
		return listenKey{network: "unix", addr: path.Clean(l.Address)}
	}
	host, port, _ := net.SplitHostPort(l.Address)
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "*"
	}
	return listenKey{network: "tcp", addr: port, host: host}
}

// clash says whether two binaries listening at a and b could not both run on one host.
func clash(a, b listenKey) bool {
	if a.network != b.network || a.addr != b.addr {
		return false
	}
	return a.network == "unix" || a.host == b.host || a.host == "*" || b.host == "*"
}

// checkListenClashes: on one host, no two binaries that may run together (installed apps and the catalog, since any
// of it can be installed on click) listen on the same port or socket. Hosts share a few app sets, so each distinct
// set is checked once.
func checkListenClashes(f *Fleet, e *errs) {
	type user struct {
		app *App
		idx int
		key listenKey
	}
	keys := map[string][]user{} // app -> its binaries' listen keys, parsed once
	for name, a := range f.Apps {
		for i, b := range a.Binaries {
			if l, err := parseListen(b.Listen, symbolicVars(a.Name)); b.Listen != "" && err == nil {
				keys[name] = append(keys[name], user{a, i, keyOf(l)})
			}
		}
	}
	reported := map[[2]string]bool{}
	checked := map[string]bool{}
	check := func(where string, apps []string) {
		set := strings.Join(apps, ",")
		if checked[set] {
			return
		}
		checked[set] = true
		byAddr := map[[2]string][]user{} // (network, port or path) -> binaries there
		for _, name := range apps {
			for _, u := range keys[name] {
				k := [2]string{u.key.network, u.key.addr}
				for _, o := range byAddr[k] {
					if !clash(o.key, u.key) {
						continue
					}
					b, other := u.app.Binaries[u.idx].Name, o.app.Binaries[o.idx].Name
					if reported[[2]string{other, b}] {
						continue
					}
					reported[[2]string{other, b}] = true
					e.add(u.app.File, u.app.pos.at(fmt.Sprintf("binaries[%d].listen", u.idx)), "listen %s clashes with binary %q (%s) on %s",
						u.app.Binaries[u.idx].Listen, other, o.app.File, where)
				}
				byAddr[k] = append(byAddr[k], u)
			}
		}
	}
	for _, name := range sortedKeys(f.Roles) {
		if apps, err := f.mayRun(name, nil); err == nil {
			check("role "+name, apps)
		}
	}
	for _, name := range sortedKeys(f.Hosts) {
		if h := f.Hosts[name]; f.Roles[h.Role] != nil {
			if apps, err := f.mayRun(h.Role, h.Add); err == nil {
				check("host "+name, apps)
			}
		}
	}
}
