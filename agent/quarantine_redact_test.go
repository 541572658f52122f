package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A quarantine's reason quotes a failed step's error: the credentials of a URL in it are redacted when it is
// recorded, and in a state file written before that when it is loaded.
func TestQuarantineReasonRedacted(t *testing.T) {
	const leaky = `fetch artifact: Get "https://ghp_tok3n@forge.example/a.tar.gz": no such host`
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte(`{"quarantine":{"notes":{"app":"notes","reason":`+"\"fetch artifact: Get \\\"https://ghp_tok3n@forge.example/a.tar.gz\\\"\""+`}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if r := st.Quarantine["notes"].Reason; strings.Contains(r, "ghp_tok3n") || !strings.Contains(r, "https://xxxxx@forge.example") {
		t.Errorf("loaded reason %q", r)
	}
	h := &hostState{st: newState(), path: filepath.Join(t.TempDir(), "state.json")}
	if err := h.quarantine(Quarantine{App: "notes", Reason: leaky}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(h.path)
	if q, _ := h.quarantined("notes"); strings.Contains(q.Reason, "ghp_tok3n") || strings.Contains(string(b), "ghp_tok3n") {
		t.Errorf("recorded reason %q; state file:\n%s", q.Reason, b)
	}
}

// TestRefusedReasonRedacted: a refused commit's reason (a validation error or a trust failure can quote a URL) is
// kept, saved and shown without the URL's credentials.
func TestRefusedReasonRedacted(t *testing.T) {
	h := &hostState{st: newState(), path: filepath.Join(t.TempDir(), "state.json")}
	if err := h.refuse("1a2b3c4d", `apps/notes.yaml:3:10: artifact.url "https://ghp_tok3n@forge.example/a.tar.gz": scheme`); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(h.path)
	if r := h.st.Refused[0].Reason; strings.Contains(r, "ghp_tok3n") || strings.Contains(string(b), "ghp_tok3n") {
		t.Errorf("recorded reason %q; state file:\n%s", r, b)
	}
}
