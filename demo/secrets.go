package demo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/secrets"
)

// The credential the example fleet's voice bar authenticates with, and the engine's host that checks it.
const (
	voiceToken  = "voice-token"
	engineHost  = "demo-admin"
	testerHost  = "demo-tester"
	testerRole  = "tester"
	adminRole   = "admin"
	fleetSubdir = "fleet"
)

// provision does, for the demo's two VMs, what bootstrap and fleet CI do for real ones, with no secret copied by
// hand: each VM gets an age identity (as herofleet bootstrap makes it), the fleet a host file naming its recipient,
// and `herofleet secrets issue` the tester's own voice token and the engine the token's sha256. It returns the
// fleet directory to publish and each host's identity file.
func provision(root string, fsys fs.FS) (string, map[string]string, error) {
	dir := filepath.Join(root, fleetSubdir)
	if err := os.CopyFS(dir, fsys); err != nil {
		return "", nil, fmt.Errorf("copy the example fleet: %w", err)
	}
	keys := map[string]string{}
	for _, h := range []struct{ name, role string }{{engineHost, adminRole}, {testerHost, testerRole}} {
		keys[h.name] = filepath.Join(root, h.role+".key")
		id, _, err := secrets.CreateIdentity(keys[h.name])
		if err != nil {
			return "", nil, err
		}
		host := fmt.Sprintf("# the demo's %s VM; recipient printed by herofleet bootstrap\nrole: %s\naddress: 127.0.0.1\nrecipient: %s\n", h.role, h.role, id.Recipient())
		if err := os.WriteFile(filepath.Join(dir, "hosts", h.name+".yaml"), []byte(host), 0o644); err != nil {
			return "", nil, err
		}
	}
	if err := joinFirstWave(dir, engineHost, testerHost); err != nil {
		return "", nil, err
	}
	if err := issue(dir); err != nil {
		return "", nil, err
	}
	return dir, keys, nil
}

// issue runs `herofleet secrets issue voice-token --role tester --for demo-admin [--revoke …]` on the fleet dir.
func issue(dir string, revoke ...string) error {
	f, err := secrets.LoadFleet(dir)
	if err != nil {
		return err
	}
	_, err = secrets.Issue(f, dir, secrets.IssueOptions{Name: voiceToken, Role: testerRole, For: engineHost, Revoke: revoke})
	if err != nil {
		return fmt.Errorf("secrets issue: %w", err)
	}
	if _, err := fleet.LoadDir(dir); err != nil {
		return fmt.Errorf("the fleet after secrets issue: %w", err)
	}
	return nil
}

// WriteSecrets puts a fresh random value in dir for every secret a config-file hook of f reads: for a benchmark or
// a test that runs an agent of its own on the example fleet without provisioning its age identity. The demo itself
// never does this: its agents decrypt their secrets from the fleet repo.
func WriteSecrets(f *fleet.Fleet, dir string) error {
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
