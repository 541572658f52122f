package cockpit

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/herofleet/herofleet/agent"
)

// API is the agent's HTTP surface: the cockpit API, the webhook, /metrics and the page.
type API struct {
	Agent *agent.Agent
	Token string // bearer token for mutating calls; empty refuses them all
	Mux   *http.ServeMux

	// ReadTimeout bounds reading a whole request, body included (30s); IdleTimeout closes a keep-alive connection
	// with no request (2m). Zero takes the default.
	ReadTimeout, IdleTimeout time.Duration
}

// NewAPI registers every route of the agent's listen address.
func NewAPI(a *agent.Agent, token string) *API {
	api := &API{Agent: a, Token: token, Mux: http.NewServeMux()}
	api.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	api.Mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, StatusOf(a.Status()))
	})
	api.Mux.Handle("POST /api/v1/sync", api.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Sync()
		WriteJSON(w, http.StatusAccepted, map[string]string{"status": "sync requested"})
	})))
	api.registerCockpit()
	return api
}

// RequireToken lets a request through only with "Authorization: Bearer <token>" (constant-time compare).
func (api *API) RequireToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !api.authorized(r) {
			WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong bearer token"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// authorized reports whether r carries "Authorization: Bearer <token>" (constant-time compare).
func (api *API) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && api.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(api.Token)) == 1
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Serve serves the API on ln until ctx ends, to requests that name this agent in their Host header (hostGuard).
func (api *API) Serve(ctx context.Context, ln net.Listener) error {
	read, idle := api.ReadTimeout, api.IdleTimeout
	if read <= 0 {
		read = 30 * time.Second
	}
	if idle <= 0 {
		idle = 2 * time.Minute
	}
	return serveUntil(ctx, ln, &http.Server{Handler: api.hostGuard(ln, api.Mux), ReadHeaderTimeout: min(10*time.Second, read), ReadTimeout: read, IdleTimeout: idle})
}

// serveUntil serves srv on ln until ctx ends, then shuts it down, giving open requests two seconds.
func serveUntil(ctx context.Context, ln net.Listener, srv *http.Server) error {
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
