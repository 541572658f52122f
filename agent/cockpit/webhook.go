package cockpit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/internal/source"
)

// webhookMaxBody bounds a push event: Forgejo sends at most a few hundred KiB even for large pushes.
const webhookMaxBody = 4 << 20

// webhook handles Forgejo (and Gitea) push events. It is authenticated only by the HMAC-SHA256 of the raw body
// under the shared secret; a push to the followed ref of the fleet repo triggers a sync, anything else changes
// nothing.
type webhook struct {
	agent  *agent.Agent
	secret []byte
	ref    string // the followed ref of the fleet repo, as configured
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, webhookMaxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if len(body) > webhookMaxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "push event larger than 4 MiB")
		return
	}
	if len(h.secret) == 0 {
		writeError(w, http.StatusForbidden, "no webhook_secret_file configured: webhooks are refused")
		return
	}
	if !h.signed(r.Header, body) {
		h.agent.Logger().Warn("webhook refused: bad or missing signature", "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, "missing or wrong X-Forgejo-Signature")
		return
	}
	event := r.Header.Get("X-Forgejo-Event")
	if event == "" {
		event = r.Header.Get("X-Gitea-Event")
	}
	if event != "" && event != "push" {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ignored: not a push event", "event": event})
		return
	}
	var push struct {
		Ref string `json:"ref"`
	}
	if err := json.Unmarshal(body, &push); err != nil || push.Ref == "" {
		writeError(w, http.StatusBadRequest, "not a push event: no ref")
		return
	}
	if !h.follows(push.Ref) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ignored: not the followed ref", "ref": push.Ref, "follows": h.ref})
		return
	}
	h.agent.Logger().Info("webhook: push to the followed ref; syncing", "ref", push.Ref)
	h.agent.Sync()
	WriteJSON(w, http.StatusAccepted, map[string]string{"status": "sync requested", "ref": push.Ref})
}

// signed checks the hex HMAC-SHA256 of body in X-Forgejo-Signature (or X-Gitea-Signature), in constant time.
func (h *webhook) signed(hdr http.Header, body []byte) bool {
	sig := hdr.Get("X-Forgejo-Signature")
	if sig == "" {
		sig = hdr.Get("X-Gitea-Signature")
	}
	got, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(sig), "sha256="))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, h.secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// follows reports whether a pushed ref (refs/heads/main, refs/tags/v1) is the one the agent follows. A ref of 40
// hex digits pins a commit: no push moves it.
func (h *webhook) follows(pushed string) bool {
	if source.IsCommit(h.ref) {
		return false
	}
	switch {
	case strings.HasPrefix(h.ref, "refs/"):
		return pushed == h.ref
	default:
		return pushed == "refs/heads/"+h.ref || pushed == "refs/tags/"+h.ref
	}
}

// registerWebhook adds POST /api/v1/webhook to the API's own mux.
func (api *API) registerWebhook() {
	api.Mux.Handle("POST /api/v1/webhook", api.webhookHandler())
}

func (api *API) webhookHandler() http.Handler {
	secret, err := api.Agent.Config().WebhookSecret()
	if err != nil {
		api.Agent.Logger().Error("webhooks are refused", "err", err)
	}
	return &webhook{agent: api.Agent, secret: []byte(secret), ref: api.Agent.Config().Fleet.Ref}
}

// ServeWebhook serves only POST /api/v1/webhook on ln (the config's webhook_listen) until ctx ends, whatever the
// Host header says: the push is authenticated by its HMAC, which a page cannot forge, and Forgejo posts with the
// Host of the URL it was given.
func (api *API) ServeWebhook(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/webhook", api.webhookHandler())
	return serveUntil(ctx, ln, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute})
}
