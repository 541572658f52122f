package fleet

import (
	"fmt"
	"strings"
)

// Variables an app's strings may name as ${name}.
var Variables = []string{"app", "data", "host", "rev", "secrets", "sockets"}

// Vars are the values of Variables for one app on one host.
type Vars struct {
	App     string // the app's name
	Data    string // <dir>/data/<app>: persistent, writable, kept across upgrades and removal
	Host    string // the host's address
	Rev     string // the app's resolved source commit; for an app installed from an artifact, the artifact's sha256
	Sockets string // <dir>/run
	Secrets string // the agent's secrets dir: where it decrypts this host's secrets/<host>/*.age (a path, never a value)
}

func (v Vars) lookup(name string) (string, bool) {
	switch name {
	case "app":
		return v.App, true
	case "data":
		return v.Data, true
	case "host":
		return v.Host, true
	case "rev":
		return v.Rev, true
	case "sockets":
		return v.Sockets, true
	case "secrets":
		return v.Secrets, true
	}
	return "", false
}

// Expand replaces ${name} with its value and $$ with $. Any other use of $ is an error.
func Expand(s string, v Vars) (string, error) {
	var b strings.Builder
	err := scanVars(s, func(lit string, name string) error {
		b.WriteString(lit)
		if name == "" {
			return nil
		}
		val, ok := v.lookup(name)
		if !ok {
			return fmt.Errorf("unknown variable ${%s} (known: %s)", name, varList())
		}
		b.WriteString(val)
		return nil
	})
	return b.String(), err
}

// checkVars reports what Expand would refuse, without values.
func checkVars(s string) error {
	_, err := Expand(s, Vars{})
	return err
}

func varList() string {
	l := make([]string, len(Variables))
	for i, v := range Variables {
		l[i] = "${" + v + "}"
	}
	return strings.Join(l, ", ")
}

// scanVars walks s, calling emit with each run of literal text and the variable name after it ("" at the end).
func scanVars(s string, emit func(lit, name string) error) error {
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			lit.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "$$"):
			lit.WriteByte('$')
			i++
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return fmt.Errorf("unterminated ${ in %q", s)
			}
			if err := emit(lit.String(), s[i+2:i+end]); err != nil {
				return err
			}
			lit.Reset()
			i += end
		default:
			return fmt.Errorf("a lone $ in %q: write ${name} for a variable or $$ for a literal $", s)
		}
	}
	return emit(lit.String(), "")
}
