package fleetview

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/herofleet/herofleet/internal/browsertest"
)

// The rules pass Debian's promtool: `check rules`, and `test rules` with testdata/rules.test.yml, which plays each
// alert's story (a host behind its newest commit, a refused commit, a quarantined app, a crashlooping binary, a
// stale agent) minute by minute.
func TestRulesPromtool(t *testing.T) {
	promtool := browsertest.Tool(t, "promtool", "prometheus")
	dir := t.TempDir()
	rules := filepath.Join(dir, "herofleet.rules.yml")
	if err := os.WriteFile(rules, []byte(Rules(RulesOptions{SyncPeriod: time.Minute, Periods: 3})), 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("testdata/rules.test.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.test.yml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "rules", rules}, {"test", "rules", filepath.Join(dir, "rules.test.yml")}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
