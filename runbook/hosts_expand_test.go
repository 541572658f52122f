package runbook

import "testing"

// The hosts page shows a binary's URL as the agent would make it: ${host} filled in, $$ a literal $, the rest as
// written.
func TestExpandHost(t *testing.T) {
	for in, want := range map[string]string{
		"http://${host}:9201/":          "http://[4a5::7]:9201/",
		"http://${host}/$${host}":       "http://[4a5::7]/${host}",
		"unix://${sockets}/${app}.sock": "unix://${sockets}/${app}.sock",
	} {
		if got := expandHost(in, "[4a5::7]"); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
}
