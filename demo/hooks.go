package demo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/herofleet/herofleet/fleet"
)

// writeSecrets puts a fresh secret in the agent's secrets dir for every secret a config-file hook reads: on a
// real VM the provisioning puts the tester's own credentials there; the fleet repo never holds them.
func writeSecrets(f *fleet.Fleet, dir string) error {
	for _, name := range f.AppNames() {
		for _, h := range f.Apps[name].Hooks {
			secret, _ := h.With["secret"].(string)
			if h.Plugin != "config-file" || secret == "" {
				continue
			}
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			b := make([]byte, 16)
			if _, err := rand.Read(b); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(secret)), []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

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
