package fleet

import (
	"testing"

	"golang.org/x/tools/txtar"
)

// A plan against an earlier fleet says how the agent version moves, on every target; the same version is no move.
func TestPlanSaysTheAgentVersionMove(t *testing.T) {
	load := func(version string) *Fleet {
		t.Helper()
		meta := "name: f\n"
		if version != "" {
			meta += "agent:\n  version: " + version + "\n  artifacts:\n    linux/amd64: {url: \"https://forge.example/h.tar.gz\", sha256: \"" +
				"0000000000000000000000000000000000000000000000000000000000000000\"}\n"
		}
		f, err := LoadDir(writeTree(t, txtar.Parse([]byte("-- fleet.yaml --\n"+meta+"-- roles/tester.yaml --\npreinstalled: []\n"))))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	none, v4, v5 := load(""), load("v0.4.0"), load("v0.5.0")
	for _, c := range []struct {
		before, after *Fleet
		want          string
	}{{none, v4, "(none) -> v0.4.0"}, {v4, v5, "v0.4.0 -> v0.5.0"}, {v5, v5, ""}, {v5, none, "v0.5.0 -> (none)"}} {
		if got := PlanTarget(c.before, c.after, Target{Role: "tester"}).Agent; got != c.want {
			t.Errorf("agent move %q, want %q", got, c.want)
		}
	}
	if got := PlanTarget(nil, v5, Target{Role: "tester"}).Agent; got != "" {
		t.Errorf("a plan without an earlier fleet says %q", got)
	}
	if v4.Meta.Agent.ConfirmOrDefault() != DefaultAgentConfirm {
		t.Errorf("confirm default %s", v4.Meta.Agent.ConfirmOrDefault())
	}
}
