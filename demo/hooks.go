package demo

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/herofleet/herofleet/fleet"
)

// checkHooks verifies, on every demo host, what the example fleet's hooks promise: each seed-git library cloned
// into its directory, and each config-file written with mode 0600 and pointing at the engine it uses.
func checkHooks(out io.Writer, f *fleet.Fleet, hosts []*host) error {
	var problems []string
	for _, h := range hosts {
		for _, name := range f.AppNames() {
			if len(h.agent.Installed(name)) == 0 {
				continue
			}
			data := filepath.Join(h.dir, "data", name)
			for _, hook := range f.Apps[name].Hooks {
				switch hook.Plugin {
				case "seed-git":
					into, _ := fleet.Expand(fmt.Sprint(hook.With["into"]), fleet.Vars{Data: data, App: name})
					repos, _ := hook.With["repos"].([]any)
					for _, item := range repos {
						lib, _ := item.(map[string]any)["name"].(string)
						if _, err := os.Stat(filepath.Join(into, lib, "README.md")); err != nil {
							problems = append(problems, fmt.Sprintf("%s: %s library %s not seeded: %v", h.name, name, lib, err))
						}
					}
					fmt.Fprintf(out, "check  %s: %s seeded %d libraries into %s\n", h.name, name, len(repos), into)
				case "config-file":
					p, _ := fleet.Expand(fmt.Sprint(hook.With["path"]), fleet.Vars{Data: data, App: name})
					st, err := os.Stat(p)
					if err != nil {
						problems = append(problems, fmt.Sprintf("%s: %s config not written: %v", h.name, name, err))
						continue
					}
					body, _ := os.ReadFile(p)
					if st.Mode().Perm() != 0o600 || !strings.Contains(string(body), "http://127.0.0.1:") {
						problems = append(problems, fmt.Sprintf("%s: %s config %s: mode %v, content %q", h.name, name, p, st.Mode().Perm(), body))
						continue
					}
					fmt.Fprintf(out, "check  %s: %s config %s (mode 0600) names its engine\n", h.name, name, p)
				}
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("hooks: %s", strings.Join(problems, "; "))
	}
	return nil
}
