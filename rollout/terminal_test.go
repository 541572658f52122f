package rollout

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

// Commits, states, problems and reasons come from Prometheus labels, which any scraped target sets: nothing of
// them reaches the terminal as a control character, in the text or in the JSON.
func TestStatusOutputHasNoControlCharacters(t *testing.T) {
	esc := "\x1b]52;c;cm0gLXJmIH4=\x07\u009b2J\u202e\x7f"
	r := Report{Fleet: "hero" + esc, Commit: strings.Repeat("a", 40), Bake: fleet.Duration{Duration: time.Minute}, Prometheus: "http://p" + esc,
		At: time.Now(), Waves: []WaveReport{
			{Name: "canary" + esc, Hosts: []HostReport{{Host: "tester-01" + esc, Commit: esc + "1a2b3c4d5e6f708192", State: "ok" + esc, Why: "crashloop" + esc, Problems: []string{"books" + esc}}}},
			{Name: "rest" + esc, Hold: "wave canary: tester-01 " + esc, Hosts: []HostReport{{Host: "tester-02", State: esc, Why: "not on it" + esc}}},
		}}
	var text, js bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "JSON": js.String()} {
		for i, c := range out {
			if c != '\n' && (c < 0x20 || c >= 0x7f && c <= 0x9f || c >= 0x202a && c <= 0x202e) {
				t.Errorf("%s holds %U at %d:\n%q", name, c, i, out)
				break
			}
		}
	}
	if !strings.Contains(text.String(), "tester-01\ufffd]52;c;") {
		t.Errorf("the host should stay readable, its controls replaced:\n%s", text.String())
	}
	if r.Waves[0].Hosts[0].Host != "tester-01"+esc {
		t.Error(fmt.Sprint("WriteText changed the report it was given: ", r.Waves[0].Hosts[0].Host))
	}
}
