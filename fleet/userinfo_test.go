package fleet_test

import (
	"testing"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/redact"
)

// fleet masks the URLs it quotes without importing redact; on a URL it must print what redact.Text prints.
func TestHideUserinfoAgreesWithRedact(t *testing.T) {
	for _, raw := range []string{
		"",
		"http://prom.example:9090",
		"https://user:token@prom.example:9090",
		"https://token@prom.example:9090/prom",
		"HTTPS://User:Tok:en@prom.example",
		"https://user:token@",
		"ftp://user:pw@host/x",
		"ssh://git@forge.example/fleet.git",
		"ssh://git:pw@forge.example/fleet.git",
		"git+ssh://git@forge.example/fleet.git",
		"http://prom.example/a@b",
		"http://prom.example?q=a@b",
		"http://prom.example#a@b",
		"prom.example:9090",
		"user:pw@prom.example:9090",
		"1http://user:pw@prom.example",
		"://user:pw@prom.example",
		"see http://user:pw@prom.example",
		"1+://user:pw@prom.example",
		"http://us er:pw@prom.example",
	} {
		if got, want := fleet.HideUserinfo(raw), redact.Text(raw); got != want {
			t.Errorf("HideUserinfo(%q) = %q, redact.Text gives %q", raw, got, want)
		}
	}
}
