package cockpit

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
)

// Apps is the answer of GET /api/v1/apps: the rows the cockpit shows (product.md, "Cockpit API").
type Apps struct {
	Host  string            `json:"host"`
	Role  string            `json:"role"`
	Fleet agent.FleetStatus `json:"fleet"`
	Rows  []Row             `json:"rows"`
	// The herofleet version the agent runs, for the cockpit's header (absent when the agent does not know it).
	AgentVersion string             `json:"agent_version,omitempty"`
	Agent        *agent.AgentStatus `json:"agent,omitempty"`
}

// StatusAnswer is the answer of GET /api/v1/status: the whole snapshot (with refused commits and quarantined apps)
// plus the same rows as GET /api/v1/apps, so that one call tells everything.
type StatusAnswer struct {
	agent.Status
	Rows []Row `json:"rows"`
}

// StatusOf adds the rows to a snapshot.
func StatusOf(st agent.Status) StatusAnswer { return StatusAnswer{Status: st, Rows: AppsOf(st).Rows} }

// Row is one cockpit row: a whole bundle while none of its binaries is installed, else one binary.
type Row struct {
	Type     string       `json:"type"` // bundle | binary
	App      string       `json:"app"`
	Title    string       `json:"title,omitempty"`
	Binaries []string     `json:"binaries,omitempty"` // bundle: the binaries an install brings
	Binary   string       `json:"binary,omitempty"`
	Kind     string       `json:"kind,omitempty"`
	State    api.RowState `json:"state"`
	Reason   string       `json:"reason,omitempty"` // set whenever the state is not fine
	Job      string       `json:"job,omitempty"`    // bundle: the install job while one runs
	PID      int          `json:"pid,omitempty"`
	URL      string       `json:"url,omitempty"`
	Restarts *int         `json:"restarts,omitempty"` // binary rows only
	Since    time.Time    `json:"since,omitzero"`
	Until    time.Time    `json:"until,omitzero"`    // waiting: when the maintenance window opens
	Clicked  bool         `json:"clicked,omitempty"` // installed on click: DELETE /api/v1/apps/{app} removes it
	Actions  []string     `json:"actions"`
}

// MarshalJSON writes exactly the fields the cockpit contract lists for the row's type, every one of them present
// (a binary that is not running has "pid": null, one that is not waiting "until": null, a fine row "reason": ""),
// plus "clicked".
func (r Row) MarshalJSON() ([]byte, error) {
	if r.Type == RowBundle {
		return json.Marshal(struct {
			Type     string       `json:"type"`
			App      string       `json:"app"`
			Title    string       `json:"title"`
			Binaries []string     `json:"binaries"`
			State    api.RowState `json:"state"`
			Reason   string       `json:"reason"`
			Job      string       `json:"job"`
			Clicked  bool         `json:"clicked"`
			Actions  []string     `json:"actions"`
		}{r.Type, r.App, r.Title, nonNil(r.Binaries), r.State, r.Reason, r.Job, r.Clicked, nonNil(r.Actions)})
	}
	var pid *int
	if r.PID != 0 {
		pid = &r.PID
	}
	var since *time.Time
	if !r.Since.IsZero() {
		since = &r.Since
	}
	var until *time.Time
	if !r.Until.IsZero() {
		until = &r.Until
	}
	restarts := 0
	if r.Restarts != nil {
		restarts = *r.Restarts
	}
	return json.Marshal(struct {
		Type     string       `json:"type"`
		App      string       `json:"app"`
		Title    string       `json:"title"`
		Binary   string       `json:"binary"`
		Kind     string       `json:"kind"`
		State    api.RowState `json:"state"`
		Reason   string       `json:"reason"`
		PID      *int         `json:"pid"`
		URL      string       `json:"url"`
		Restarts int          `json:"restarts"`
		Since    *time.Time   `json:"since"`
		Until    *time.Time   `json:"until"` // set while waiting for a maintenance window
		Clicked  bool         `json:"clicked"`
		Actions  []string     `json:"actions"`
	}{r.Type, r.App, r.Title, r.Binary, r.Kind, r.State, r.Reason, pid, r.URL, restarts, since, until, r.Clicked, nonNil(r.Actions)})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Row types and actions.
const (
	RowBundle = "bundle"
	RowBinary = "binary"

	ActionInstall   = "install"
	ActionUninstall = "uninstall"
	ActionStart     = "start"
	ActionStop      = "stop"
	ActionRestart   = "restart"
	ActionLogs      = "logs"
)

// AppsOf turns a status snapshot into cockpit rows, in the status' order.
func AppsOf(st agent.Status) Apps {
	out := Apps{Host: st.Host, Role: st.Role, Fleet: st.Fleet, Rows: make([]Row, 0, 2*len(st.Apps)), AgentVersion: st.AgentVersion, Agent: st.Agent}
	quarantine := map[string]string{}
	for _, q := range st.Quarantined {
		quarantine[q.App] = q.Reason
	}
	for _, app := range st.Apps {
		if app.State != api.AppInstalled {
			out.Rows = append(out.Rows, bundleRow(app, quarantine[app.Name]))
			continue
		}
		for _, b := range app.Binaries {
			out.Rows = append(out.Rows, binaryRow(app, b))
		}
	}
	return out
}

func bundleRow(app agent.AppStatus, quarantined string) Row {
	r := Row{Type: RowBundle, App: app.Name, Title: app.Title, State: api.RowState(app.State), Reason: app.Reason, Job: app.Job,
		Clicked: app.Clicked, Binaries: make([]string, 0, len(app.Binaries)), Actions: []string{}}
	for _, b := range app.Binaries {
		r.Binaries = append(r.Binaries, b.Name)
	}
	if r.Reason == "" && quarantined != "" {
		r.Reason = quarantined
	}
	switch {
	case app.Offered && (app.State == api.AppNotInstalled || app.State == api.AppFailed):
		// after a failure too: a quarantined spec fails at once and says so, a changed one is tried again
		r.Actions = append(r.Actions, ActionInstall)
	case app.Clicked && app.State == api.AppFailed:
		r.Actions = append(r.Actions, ActionUninstall) // clears the click, so it can be installed again
	}
	if app.State == api.AppInstalling && app.Phase != "" {
		// a reason left from an earlier failure would mislead
		r.Reason = api.Reason{Code: api.ReasonInstalling, Subject: string(app.Phase)}.String()
	}
	if app.State == api.AppNotInstalled && r.Reason == "" && !app.Offered {
		r.Reason = api.Reason{Code: api.ReasonNextSync}.String()
	}
	if app.State == api.AppFailed && r.Reason == "" {
		r.Reason = api.Reason{Code: api.ReasonInstallFailed}.String()
	}
	return r
}

func binaryRow(app agent.AppStatus, b agent.BinaryStatus) Row {
	restarts := b.Restarts
	r := Row{Type: RowBinary, App: app.Name, Title: app.Title, Binary: b.Name, Kind: b.Kind, State: api.RowState(b.State),
		Reason: b.Reason, PID: b.PID, URL: b.URL, Restarts: &restarts, Since: b.Since, Until: b.Until, Clicked: app.Clicked}
	switch b.State {
	case api.BinStopped, api.BinFailed:
		r.Actions = []string{ActionStart, ActionLogs}
	default:
		r.Actions = []string{ActionStop, ActionRestart, ActionLogs}
	}
	if r.Reason == "" && b.State != api.BinRunning {
		r.Reason = app.Reason
		if r.Reason == "" {
			r.Reason = api.Reason{Code: api.ReasonBinaryState, Subject: string(b.State)}.String()
		}
	}
	return r
}

// rowsTTL is how long an encoded answer of GET /api/v1/apps is served again. Every cockpit page polls it, so it is
// computed at most a few times a second however many pages are open; a control or install through the API drops
// it at once, and what the agent changes by itself (a crash, an install's next phase) shows within rowsTTL.
const rowsTTL = 250 * time.Millisecond

// rowsCache is the last encoded answer of GET /api/v1/apps.
type rowsCache struct {
	stale atomic.Bool // set by every mutating call
	mu    sync.Mutex
	body  []byte
	at    time.Time
}

func (c *rowsCache) invalidate() { c.stale.Store(true) }

// get returns the encoded rows, computing them again when they are older than rowsTTL, stale or fresh is asked.
func (c *rowsCache) get(a *agent.Agent, fresh bool) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !fresh && c.body != nil && !c.stale.Load() && time.Since(c.at) < rowsTTL {
		return c.body, nil
	}
	c.stale.Store(false)
	body, err := json.Marshal(AppsOf(a.Status()))
	if err != nil {
		return nil, err
	}
	c.body, c.at = append(body, '\n'), time.Now()
	return c.body, nil
}

// invalidating drops the cached rows once h has answered, so the caller's next GET sees what it did.
func (c *rowsCache) invalidating(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer c.invalidate()
		h.ServeHTTP(w, r)
	})
}

// registerApps adds the app rows, install on click, uninstall and jobs. ?fresh=1 computes the rows from a fresh
// snapshot (for the benchmark's comparison, and for anyone who cannot wait rowsTTL).
func (api *API) registerApps(rows *rowsCache) {
	a := api.Agent
	api.Mux.HandleFunc("GET /api/v1/apps", func(w http.ResponseWriter, r *http.Request) {
		body, err := rows.get(a, r.URL.Query().Get("fresh") == "1")
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	})
	api.Mux.Handle("POST /api/v1/apps/{app}/install", api.RequireToken(rows.invalidating(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j, err := a.Install(r.PathValue("app"))
		switch {
		case errors.Is(err, agent.ErrNotInCatalog):
			writeError(w, http.StatusNotFound, err.Error()+": it cannot be installed on this host")
		case errors.Is(err, agent.ErrInstalled):
			writeError(w, http.StatusConflict, err.Error())
		case errors.Is(err, agent.ErrNoFleet):
			writeError(w, http.StatusServiceUnavailable, err.Error()+": try again after the first sync")
		case err != nil:
			writeError(w, http.StatusInternalServerError, err.Error())
		default:
			WriteJSON(w, http.StatusAccepted, map[string]string{"job": j.ID, "app": j.App, "phase": string(j.Phase), "href": "/api/v1/jobs/" + j.ID})
		}
	}))))
	api.Mux.Handle("DELETE /api/v1/apps/{app}", api.RequireToken(rows.invalidating(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app := r.PathValue("app")
		err := a.Uninstall(app)
		switch {
		case errors.Is(err, agent.ErrNotClicked) && a.Installed(app) != nil:
			writeError(w, http.StatusConflict, err.Error()+": only apps installed on click can be uninstalled here; the fleet repo decides the rest")
		case errors.Is(err, agent.ErrNotClicked):
			writeError(w, http.StatusNotFound, err.Error())
		case err != nil:
			writeError(w, http.StatusInternalServerError, err.Error())
		default:
			WriteJSON(w, http.StatusAccepted, map[string]string{"status": "uninstall requested; its data is kept", "app": app})
		}
	}))))
	api.Mux.HandleFunc("GET /api/v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		j, ok := a.JobStatus(r.PathValue("id"))
		if !ok {
			writeError(w, http.StatusNotFound, "no job "+r.PathValue("id"))
			return
		}
		if !api.authorized(r) {
			j.LogTail = "" // a build's output can hold secrets, like a binary's log: it needs the token
		}
		WriteJSON(w, http.StatusOK, j)
	})
}

func writeError(w http.ResponseWriter, code int, msg string) {
	WriteJSON(w, code, map[string]string{"error": msg})
}
