package secrets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/atomicfile"
)

// LoadFleet loads the fleet in dir for a secrets command: a fleet with problems is refused, because the
// recipients it names could not be trusted.
func LoadFleet(dir string) (*fleet.Fleet, error) {
	f, err := fleet.LoadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("fleet %s: %w", dir, err)
	}
	return f, nil
}

// Set encrypts value to host's recipients and writes it as secrets/<host>/<name>.age in the fleet dir.
func Set(f *fleet.Fleet, dir, host, name string, value []byte) (string, error) {
	if f.Hosts[host] == nil {
		return "", fmt.Errorf("unknown host %q: add hosts/%s.yaml with its recipient first", host, host)
	}
	if !fleet.ValidName(name) {
		return "", fmt.Errorf("secret name %q is not a valid name (%s)", name, fleet.NamePattern)
	}
	rs := f.RecipientsOf(host)
	if len(rs) == 0 {
		return "", fmt.Errorf("host %q has no recipient: add recipient: age1… to %s (herofleet bootstrap prints it)", host, f.Hosts[host].File)
	}
	data, err := Encrypt(value, rs)
	if err != nil {
		return "", fmt.Errorf("%s: %w", fleet.SecretPath(host, name), err)
	}
	rel := fleet.SecretPath(host, name)
	return rel, writeFile(filepath.Join(dir, filepath.FromSlash(rel)), data)
}

// Entry is one secret as listed: where it is, never what it holds.
type Entry struct{ Host, Name, File string }

// List names every secret of the fleet, by host.
func List(f *fleet.Fleet) []Entry {
	out := make([]Entry, 0, len(f.Secrets))
	for _, s := range f.Secrets {
		out = append(out, Entry{Host: s.Host, Name: s.Name, File: s.File})
	}
	return out
}

// Rekey decrypts every secret with id (an operator's identity) and encrypts it again to its host's current
// recipients: run it after a recipient changes. It returns the files rewritten; on the first file id cannot open it
// stops, having rewritten only whole files.
func Rekey(f *fleet.Fleet, dir string, id age.Identity) ([]string, error) {
	var done []string
	for _, s := range f.Secrets {
		value, err := Decrypt(s.Data, id)
		if err != nil {
			return done, fmt.Errorf("%s: %w", s.File, err)
		}
		rs := f.RecipientsOf(s.Host)
		if len(rs) == 0 {
			return done, fmt.Errorf("%s: host %q has no recipient", s.File, s.Host)
		}
		data, err := Encrypt(value, rs)
		if err != nil {
			return done, fmt.Errorf("%s: %w", s.File, err)
		}
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(s.File)), data); err != nil {
			return done, err
		}
		done = append(done, s.File)
	}
	return done, nil
}

// Check decrypts every secret with id, an operator's identity (validate --deep): a file it cannot open is one
// error, named by file. Values are dropped at once.
func Check(f *fleet.Fleet, id age.Identity) error {
	var errs []error
	for _, s := range f.Secrets {
		if _, err := Decrypt(s.Data, id); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.File, err))
		}
	}
	return errors.Join(errs...)
}

// writeFile writes ciphertext through a temporary file and a rename, so a reader never sees half a file.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("secrets folder: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
