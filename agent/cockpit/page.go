package cockpit

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

// The cockpit page is server-rendered from the same rows as GET /api/v1/apps and then kept fresh by polling that
// API from a small script: no front-end build step, nothing fetched from elsewhere.
//
//go:embed page/index.html page/style.css page/app.js
var pageFiles embed.FS

var cockpitPage = template.Must(template.New("index.html").Funcs(template.FuncMap{
	"short": func(commit string) string {
		if commit == "" {
			return "none"
		}
		return fleet.ShortRev(commit)
	},
	"since": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
}).ParseFS(pageFiles, "page/index.html"))

// registerCockpit adds everything of the cockpit: the API beyond status and sync, the webhook, /metrics and the
// page at /.
func (api *API) registerCockpit() {
	rows := &rowsCache{}
	api.registerApps(rows)
	api.registerControls(rows)
	api.registerWebhook()
	api.Mux.Handle("GET /metrics", api.Agent.MetricsHandler())
	static, _ := fs.Sub(pageFiles, "page")
	api.Mux.Handle("GET /cockpit/", http.StripPrefix("/cockpit/", http.FileServerFS(static)))
	api.Mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:")
		st := api.Agent.Status()
		page := struct {
			Apps
			Links []fleet.Link
		}{AppsOf(st), st.Links}
		if err := cockpitPage.Execute(w, page); err != nil {
			api.Agent.Logger().Warn("cockpit page", "err", err)
		}
	})
}
