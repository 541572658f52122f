package apply

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/herofleet/herofleet/fleet"
)

// An app's key covers the values of the secrets it reads: a rotated or revoked secret re-runs its hooks (a config
// file rendered from it is rendered again) and restarts it. Which secrets an app reads is read from its spec, by a
// simple rule that errs on the side of a restart:
//
//   - a string of a hook's with, a binary's args or env naming ${secrets}/NAME reads NAME;
//   - a hook's with key "secret" names a secret by its name (the config-file plugin's way: secret: voice-token);
//   - ${secrets} anywhere else (the dir itself, handed to a plugin or a binary) reads every secret of the host.
//
// The values are read from the secrets dir, which the agent has written before any app is resolved. An app that
// reads no secret keeps the key it had before secrets were part of it: upgrading the agent restarts nothing else.

// secretRef is ${secrets}/NAME (NAME by the name rule), or ${secrets} alone.
var secretRef = regexp.MustCompile(`\$\{secrets\}(/([A-Za-z0-9][A-Za-z0-9._-]*))?`)

// withSecrets is key, or, when app reads secrets, key combined with the sha256 of their values.
func (r *Runner) withSecrets(key string, app *fleet.App) string {
	names, all := secretsRead(app)
	if len(names) == 0 && !all {
		return key
	}
	return hashJSON(struct{ Key, Secrets string }{key, r.secretsSum(names, all)})
}

// secretsRead lists the secrets app's hooks and binaries name, or reports that they read all of them.
func secretsRead(app *fleet.App) (names []string, all bool) {
	add := func(s string) {
		for _, m := range secretRef.FindAllStringSubmatch(s, -1) {
			if m[2] == "" {
				all = true
			} else if !slices.Contains(names, m[2]) {
				names = append(names, m[2])
			}
		}
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case string:
			add(x)
			if key == "secret" && fleet.ValidName(x) && !slices.Contains(names, x) {
				names = append(names, x)
			}
		case map[string]any:
			for k, e := range x {
				walk(k, e)
			}
		case []any:
			for _, e := range x {
				walk("", e)
			}
		}
	}
	for _, h := range app.Hooks {
		walk("", h.With)
	}
	for _, b := range app.Binaries {
		for _, a := range b.Args {
			add(a)
		}
		for _, v := range b.Env {
			add(v)
		}
	}
	slices.Sort(names)
	return names, all
}

// secretsSum is the sha256 over the named secrets' values in the secrets dir (every file the dir holds when all),
// a missing one counted as missing.
func (r *Runner) secretsSum(names []string, all bool) string {
	dir := r.cfg.SecretsDir
	if all && dir != "" {
		if ents, err := os.ReadDir(dir); err == nil {
			for _, e := range ents {
				if n := e.Name(); e.Type().IsRegular() && fleet.ValidName(n) && !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
		slices.Sort(names)
	}
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		var v []byte
		err := os.ErrNotExist
		if dir != "" {
			v, err = os.ReadFile(filepath.Join(dir, n))
		}
		if err != nil {
			b.WriteString(" missing\n")
			continue
		}
		sum := sha256.Sum256(v)
		b.WriteString(" " + hex.EncodeToString(sum[:]) + "\n")
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}
