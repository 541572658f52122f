package bootstrap

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/herofleet/herofleet/internal/atomicfile"
	"github.com/herofleet/herofleet/secrets"
)

// Action is what bootstrap did to one path.
type Action string

// Actions.
const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
)

// Change is one path bootstrap looked after, as it is named on the VM (without the root).
type Change struct {
	Path    string
	Action  Action
	Details []string // what changed, in words ("role: tester -> admin")
}

// Changed reports whether any of the changes wrote something.
func Changed(cs []Change) bool {
	for _, c := range cs {
		if c.Action != Unchanged {
			return true
		}
	}
	return false
}

// Write checks the options and makes the agent's directories, config, token and service files under o.Root,
// step by step, each step leaving what is already right alone.
func Write(o *Options) ([]Change, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	w := &writer{root: o.Root}
	if o.OnRunningSystem() {
		w.root = defaultRoot
	}
	svc := o.service()
	steps := []func() error{
		func() error { return w.dir(EtcDir, 0o755) },
		func() error { return w.dir(SecretsDir, 0o700) },
		func() error { return w.dir(StateDir, 0o700) },
		func() error { return w.dir(PluginsDir, 0o755) },
		func() error { return w.config(o) },
		w.token,
		w.identity,
		func() error { return w.service(UnitPath, svc.SystemdUnit) },
		func() error { return w.service(ZinitPath, svc.ZinitService) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return w.changes, err
		}
	}
	return w.changes, nil
}

type writer struct {
	root    string
	changes []Change
}

func (w *writer) path(p string) string { return filepath.Join(w.root, filepath.FromSlash(p)) }

func (w *writer) note(p string, a Action, details ...string) {
	w.changes = append(w.changes, Change{Path: p, Action: a, Details: details})
}

// dir makes a directory with exactly this mode.
func (w *writer) dir(p string, mode fs.FileMode) error {
	full := w.path(p)
	fi, err := os.Stat(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.Mkdir(full, mode); err != nil {
			return err
		}
		w.note(p, Created)
		return os.Chmod(full, mode) // Mkdir's mode passes through the umask
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", full)
	case fi.Mode().Perm() != mode:
		w.note(p, Updated, fmt.Sprintf("mode %04o -> %04o", fi.Mode().Perm(), mode))
		return os.Chmod(full, mode)
	}
	w.note(p, Unchanged)
	return nil
}

func (w *writer) config(o *Options) error {
	old, err := os.ReadFile(w.path(ConfigPath))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if errors.Is(err, fs.ErrNotExist) {
		old = nil
	}
	data, changes, err := renderConfig(old, o)
	if err != nil {
		return err
	}
	return w.file(ConfigPath, data, 0o644, changes...)
}

// token writes a fresh random bearer token when there is none; an existing token is kept.
func (w *writer) token() error {
	old, err := os.ReadFile(w.path(TokenPath))
	switch {
	case err == nil && len(bytes.TrimSpace(old)) > 0:
		return w.file(TokenPath, old, 0o600)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	return w.file(TokenPath, []byte(hex.EncodeToString(b)+"\n"), 0o600)
}

// identity makes the host's age identity (0600) unless there is one: a kept key keeps every secret readable.
func (w *writer) identity() error {
	full := w.path(IdentityPath)
	if fi, err := os.Stat(full); err == nil && fi.Mode().Perm() != 0o600 {
		w.note(IdentityPath, Updated, fmt.Sprintf("mode %04o -> 0600", fi.Mode().Perm()))
		return os.Chmod(full, 0o600)
	}
	_, created, err := secrets.CreateIdentity(full)
	if err != nil {
		return err
	}
	if created {
		w.note(IdentityPath, Created)
	} else {
		w.note(IdentityPath, Unchanged)
	}
	return nil
}

// Recipient is the age recipient of the host identity bootstrap wrote under o.Root: it goes into the fleet's
// hosts/<host>.yaml as recipient.
func Recipient(o *Options) (string, error) {
	root := o.Root
	if o.OnRunningSystem() {
		root = defaultRoot
	}
	id, err := secrets.LoadIdentity(filepath.Join(root, filepath.FromSlash(IdentityPath)))
	if err != nil {
		return "", err
	}
	return id.Recipient().String(), nil
}

func (w *writer) service(p string, render func() ([]byte, error)) error {
	data, err := render()
	if err != nil {
		return err
	}
	return w.file(p, data, 0o644)
}

// file writes data with mode unless the file already holds exactly that; the write is atomic (rename), so a VM
// that loses power mid-bootstrap never boots with half a config.
func (w *writer) file(p string, data []byte, mode fs.FileMode, details ...string) error {
	full := w.path(p)
	fi, err := os.Stat(full)
	action := Updated
	switch {
	case errors.Is(err, fs.ErrNotExist):
		action = Created
	case err != nil:
		return err
	default:
		old, err := os.ReadFile(full)
		if err != nil {
			return err
		}
		if bytes.Equal(old, data) {
			if fi.Mode().Perm() == mode {
				w.note(p, Unchanged)
				return nil
			}
			w.note(p, Updated, fmt.Sprintf("mode %04o -> %04o", fi.Mode().Perm(), mode))
			return os.Chmod(full, mode)
		}
		if len(details) == 0 {
			details = []string{"content differs"}
		}
	}
	if err := writeAtomic(full, data, mode); err != nil {
		return err
	}
	w.note(p, action, details...)
	return nil
}

func writeAtomic(full string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(full, data, mode)
}
