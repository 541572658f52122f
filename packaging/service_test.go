package packaging

import (
	"strings"
	"testing"
)

// TestUnitMakesTheSecretsDirWritable: the unit keeps ProtectSystem=full (/etc read-only) and names the secrets dir
// it is given, and the packaged unit the default one, as writable.
func TestUnitMakesTheSecretsDirWritable(t *testing.T) {
	for _, s := range []Service{Packaged, {Bin: "/opt/hf/herofleet", Config: "/srv/hf/agent.yaml", SecretsDir: "/srv/hf/secrets"}} {
		unit, err := s.SystemdUnit()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"ProtectSystem=full", "ReadWritePaths=-" + s.SecretsDir} {
			if !strings.Contains(string(unit), "\n"+want+"\n") {
				t.Errorf("unit for %+v lacks %q:\n%s", s, want, unit)
			}
		}
	}
	if Packaged.SecretsDir != "/etc/herofleet/secrets" {
		t.Errorf("packaged secrets dir %q, want bootstrap's /etc/herofleet/secrets", Packaged.SecretsDir)
	}
}

func TestServiceNeedsALiteralSecretsDir(t *testing.T) {
	for _, dir := range []string{"", "secrets", "/etc/herofleet/../secrets", "/etc/hero fleet/secrets", "/etc/%h/secrets"} {
		s := Packaged
		s.SecretsDir = dir
		if _, err := s.SystemdUnit(); err == nil || !strings.Contains(err.Error(), "secrets dir") {
			t.Errorf("secrets dir %q: %v, want an error naming the secrets dir", dir, err)
		}
	}
}
