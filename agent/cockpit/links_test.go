package cockpit

import (
	"strings"
	"testing"
)

// A role's links (the admin role's fleet view) show in the header of every host of that role, ${host} expanded
// to the host's address; a role without links shows none.
func TestPageShowsRoleLinks(t *testing.T) {
	h := newHarness(t)
	fleet := `
-- fleet.yaml --
name: test
-- roles/tester.yaml --
preinstalled: []
links:
  - {title: Fleet view (Prometheus), url: "http://${host}:9090/alerts"}
`
	h.commitFleet(fleet)
	c := h.startCockpit()
	want := `<nav id="links"><a href="http://127.0.0.1:9090/alerts" target="_blank" rel="noopener">Fleet view (Prometheus)</a>`
	var page string
	waitPage := func(cond func(string) bool) {
		t.Helper()
		for range 200 {
			if _, page = c.do("GET", "/", false); cond(page) {
				return
			}
			mustSync(t, c.a)
		}
		t.Fatalf("page:\n%s", page)
	}
	waitPage(func(p string) bool { return strings.Contains(p, want) })
	h.commitFleet(fleet + "-- roles/tester.yaml --\npreinstalled: []\n")
	mustSync(t, c.a)
	waitPage(func(p string) bool { return !strings.Contains(p, `id="links"`) })
}
