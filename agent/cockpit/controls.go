package cockpit

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/herofleet/herofleet/agent"
)

// controlTimeout bounds a start, stop or restart asked over the API; it outlives the request on purpose, so a
// client that hangs up does not leave a binary half stopped.
const controlTimeout = 30 * time.Second

// registerControls adds the per-binary controls, logs, suspend and resume.
func (api *API) registerControls(rows *rowsCache) {
	a := api.Agent
	control := func(do func(context.Context, string) error, done string) http.Handler {
		return api.RequireToken(rows.invalidating(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			bin := r.PathValue("binary")
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), a.Config().StopGrace.Duration+controlTimeout)
			defer cancel()
			err := do(ctx, bin)
			switch {
			case errors.Is(err, agent.ErrUnknownBinary):
				writeError(w, http.StatusNotFound, err.Error())
			case errors.Is(err, agent.ErrBusy):
				writeError(w, http.StatusServiceUnavailable, err.Error())
			case errors.Is(err, agent.ErrQueued):
				WriteJSON(w, http.StatusAccepted, map[string]string{"binary": bin, "status": err.Error()})
			case err != nil:
				writeError(w, http.StatusInternalServerError, err.Error())
			default:
				WriteJSON(w, http.StatusAccepted, map[string]string{"binary": bin, "status": done})
			}
		})))
	}
	api.Mux.Handle("POST /api/v1/binaries/{binary}/start", control(a.StartBinary, "started"))
	api.Mux.Handle("POST /api/v1/binaries/{binary}/stop", control(a.StopBinary, "stopped; it stays stopped until started again"))
	api.Mux.Handle("POST /api/v1/binaries/{binary}/restart", control(a.RestartBinary, "restarted"))
	api.Mux.Handle("GET /api/v1/binaries/{binary}/logs", api.RequireToken(http.HandlerFunc(api.serveLogs)))

	api.Mux.Handle("POST /api/v1/suspend", api.RequireToken(rows.invalidating(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Suspend(); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		WriteJSON(w, http.StatusAccepted, map[string]string{"status": "suspended: new fleet commits are fetched, not applied, until resumed"})
	}))))
	api.Mux.Handle("POST /api/v1/resume", api.RequireToken(rows.invalidating(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Resume(); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		WriteJSON(w, http.StatusAccepted, map[string]string{"status": "resumed: sync requested"})
	}))))
}

// serveLogs answers the last ?tail=N lines (default 200) of a binary's log; with ?follow=1 it keeps the response
// open and streams what the binary writes next, until the client goes away.
func (api *API) serveLogs(w http.ResponseWriter, r *http.Request) {
	bin := r.PathValue("binary")
	n := 200
	if s := r.URL.Query().Get("tail"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v > 100000 {
			writeError(w, http.StatusBadRequest, "tail must be a number of lines from 0 to 100000")
			return
		}
		n = v
	}
	path, err := api.Agent.LogPath(bin)
	if errors.Is(err, agent.ErrUnknownBinary) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	// the offset to follow from is taken before the tail, so nothing written in between is lost
	var off int64
	if st, err := os.Stat(path); err == nil {
		off = st.Size()
	}
	text, err := api.Agent.LogTail(bin, n)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if n > 0 {
		_, _ = io.WriteString(w, text)
	}
	if r.URL.Query().Get("follow") != "1" {
		return
	}
	followLog(r.Context(), w, path, off)
}

// followLog streams path from off until ctx ends, reopening it from the start when it was rotated.
func followLog(ctx context.Context, w http.ResponseWriter, path string, off int64) {
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	buf := make([]byte, 32<<10)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		st, err := os.Stat(path)
		if err != nil {
			continue
		}
		if st.Size() < off {
			off = 0 // rotated: the new file starts empty
		}
		if st.Size() == off {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		for off < st.Size() {
			m, err := f.ReadAt(buf[:min(int64(len(buf)), st.Size()-off)], off)
			if m > 0 {
				if _, werr := w.Write(buf[:m]); werr != nil {
					f.Close()
					return
				}
				off += int64(m)
			}
			if err != nil {
				break
			}
		}
		f.Close()
		if flusher != nil {
			flusher.Flush()
		}
	}
}
