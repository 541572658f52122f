package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/herofleet/herofleet/api"
)

// What a person asked of the host, remembered across restarts: clicks, stopped binaries, suspend.

// click remembers an app installed from the catalog, and opens the job that follows it. An app the fleet itself
// wants, or one already clicked (even if its install has not started yet), is a conflict: a second click is not a
// second job. An app uninstalled whose removal has not run yet may be clicked again: it then stays.
func (h *hostState) click(app string) (Job, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	base := h.fleetWants
	if base == nil {
		return Job{}, ErrNoFleet
	}
	if _, ok := base.App(app); ok || slices.Contains(h.st.Clicked, app) {
		return Job{}, fmt.Errorf("%s: %w", app, ErrInstalled)
	}
	if !slices.Contains(base.Catalog, app) {
		return Job{}, fmt.Errorf("%s: %w", app, ErrNotInCatalog)
	}
	h.st.Clicked = append(h.st.Clicked, app)
	if err := h.save(); err != nil {
		h.st.Clicked = slices.DeleteFunc(h.st.Clicked, func(s string) bool { return s == app })
		return Job{}, err
	}
	return h.jobs.open(app), nil
}

// unclick forgets a click; the next converge removes the app. An install job still open for it ends: no install
// follows any more.
func (h *hostState) unclick(app string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Contains(h.st.Clicked, app) {
		return fmt.Errorf("%s: %w", app, ErrNotClicked)
	}
	h.st.Clicked = slices.DeleteFunc(h.st.Clicked, func(s string) bool { return s == app })
	if j := h.jobs.active(app); j != nil && h.st.Apps[app] == nil {
		j.fail("uninstalled before the install finished")
		if p := h.progress[app]; p != nil {
			p.phase = ""
		}
	}
	return h.save()
}

func (h *hostState) clicked() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.st.Clicked)
}

// setStopped remembers that a person stopped a binary (or started it again).
func (h *hostState) setStopped(binary string, stopped bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st.isStopped(binary) == stopped {
		return nil
	}
	h.st.setStopped(binary, stopped)
	return h.save()
}

func (h *hostState) isStopped(binary string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st.isStopped(binary)
}

// setSuspended holds new fleet commits (or lets them through again); remembered across restarts.
func (h *hostState) setSuspended(on bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if on {
		if err := writeAtomic(h.suspendedPath, []byte("suspended by a person\n"), 0o600); err != nil {
			return err
		}
		h.sync.state, h.sync.err = api.SyncSuspended, ""
		return nil
	}
	if err := os.Remove(h.suspendedPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if h.sync.state == api.SyncSuspended {
		h.sync.state = api.SyncOK
	}
	return nil
}

// isSuspended reads the flag from disk each time: its presence is the whole flag.
func (h *hostState) isSuspended() bool {
	_, err := os.Stat(h.suspendedPath)
	return err == nil
}
