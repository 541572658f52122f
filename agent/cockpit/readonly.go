package cockpit

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/herofleet/herofleet/internal/redact"
)

// ReadOnlyMux is what the config's metrics_listen serves, to Prometheus and fleet tools, without a token: GET
// /metrics, /healthz and /api/v1/status with every credential redacted. Any other path is 404 and any other method
// 405: nothing there changes the host or reads its logs.
func (api *API) ReadOnlyMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", api.Agent.MetricsHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, redactAll(StatusOf(api.Agent.Status())))
	})
	return mux
}

// ServeReadOnly serves ReadOnlyMux on ln until ctx ends, whatever the Host header says: unlike the cockpit (see
// hostGuard) it is read-only and redacted by design, so a page that reaches it through DNS rebinding reads
// nothing that Prometheus is not meant to publish, and Prometheus may scrape it under any name.
func (api *API) ServeReadOnly(ctx context.Context, ln net.Listener) error {
	return serveUntil(ctx, ln, &http.Server{Handler: api.ReadOnlyMux(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second})
}

// redactAll returns v as JSON values with redact.Text (the one redaction) applied to every string in it (errors, reasons, URLs),
// wherever a field carries one: what a field may hold is not trusted to the field's name.
func redactAll(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]string{"error": "status could not be encoded"}
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return map[string]string{"error": "status could not be encoded"}
	}
	return redactTree(tree)
}

func redactTree(v any) any {
	switch t := v.(type) {
	case string:
		return redact.Text(t)
	case []any:
		for i := range t {
			t[i] = redactTree(t[i])
		}
	case map[string]any:
		for k, x := range t {
			t[k] = redactTree(x)
		}
	}
	return v
}
