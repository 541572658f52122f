package agenttest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/herofleet/herofleet/internal/gitserver"
)

// FleetRepo is the fleet repository's name on the forge: an agent follows https://forge.test/ops/fleet.git, which
// AgentConfig rewrites to the forge.
const FleetRepo = "ops/fleet"

// Vars are placeholders of a txtar fleet: {{name}} stands for Vars[name]. They carry what is only known when the
// test runs (the test app's path, a free port, an artifact's sha256); the fleet's own variables (${sockets}, ${data},
// ...) are left for the agent.
type Vars map[string]string

// Forge is a loopback git server holding the fleet repo and the apps' repos of one test.
type Forge struct {
	*gitserver.Server
	t    testing.TB
	vars Vars
}

// StartForge serves fresh, empty repositories on 127.0.0.1 until the test ends. vars are the placeholders every
// fleet committed to it may use, typically {"testapp": path of the test app}.
func StartForge(t testing.TB, vars Vars) *Forge {
	t.Helper()
	g, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	return &Forge{Server: g, t: t, vars: vars}
}

// CommitFleet commits archive, a txtar fleet, as the whole tree of the next commit on the fleet repo's main branch,
// and returns the commit's hash. Placeholders are replaced first (those of StartForge, then vars); one left unknown
// fails the test. When a file appears twice, the later one wins: a test shows a change as the files it replaces,
// e.g. fleet + "-- roles/tester.yaml --\npreinstalled: []\n".
func (f *Forge) CommitFleet(archive string, vars ...Vars) string {
	f.t.Helper()
	return f.CommitFleetOn("", nil, "fleet", archive, vars...)
}

// CommitFleetOn is CommitFleet with a parent ("" for the tip of main; an older commit makes a force-push of a
// sibling), a signer (nil: unsigned) and a commit message.
func (f *Forge) CommitFleetOn(parent string, signer gitserver.Signer, msg, archive string, vars ...Vars) string {
	f.t.Helper()
	files, err := FleetFiles(archive, append([]Vars{f.vars}, vars...)...)
	if err != nil {
		f.t.Fatal(err)
	}
	rev, err := f.CommitOn(FleetRepo, "main", parent, msg, files, signer)
	if err != nil {
		f.t.Fatal(err)
	}
	return rev
}

// CommitApp commits a new revision of app's repo (apps/<app>, followed on main) and returns its hash. The test app
// builds any tree; files names extra files to add, such as FAIL_BUILD, which makes that build fail.
func (f *Forge) CommitApp(app string, files ...string) string {
	f.t.Helper()
	tree := gitserver.Text(map[string]string{"README": app + " " + time.Now().String()}) // every revision differs
	for _, name := range files {
		tree[name] = gitserver.File{Data: []byte("x")}
	}
	rev, err := f.Commit("apps/"+app, "main", "update "+app, tree)
	if err != nil {
		f.t.Fatal(err)
	}
	return rev
}

var placeholder = regexp.MustCompile(`\{\{([A-Za-z0-9_]+)\}\}`)

// FleetFiles turns a txtar fleet into the files of a commit, with its placeholders replaced (a later Vars wins).
// Text before the first file must be blank: a fleet file without its "-- name --" line would be lost otherwise.
func FleetFiles(archive string, vars ...Vars) (gitserver.Files, error) {
	var unknown []string
	text := placeholder.ReplaceAllStringFunc(archive, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		for i := len(vars) - 1; i >= 0; i-- {
			if v, ok := vars[i][name]; ok {
				return v
			}
		}
		unknown = append(unknown, m)
		return m
	})
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("fleet: unknown placeholders %s", strings.Join(slices.Compact(unknown), ", "))
	}
	a := txtar.Parse([]byte(text))
	if c := strings.TrimSpace(string(a.Comment)); c != "" {
		return nil, fmt.Errorf("fleet: text before the first file: %q", c)
	}
	if len(a.Files) == 0 {
		return nil, fmt.Errorf("fleet: no files")
	}
	files := gitserver.Files{}
	for _, file := range a.Files {
		files[file.Name] = gitserver.File{Data: file.Data}
	}
	return files, nil
}

// AgentConfig is the text of an agent config for host t1 of role tester, with dir as its dir and the fleet repo on
// forge (https://forge.test/ is rewritten to it), and timeouts short enough for tests. A test appends lines to it.
func AgentConfig(dir string, forge *Forge) string {
	return fmt.Sprintf(`
fleet: {repo: "https://forge.test/ops/fleet.git", ref: main}
host: t1
role: tester
address: 127.0.0.1
dir: %s
rewrite: {"https://forge.test/": %q}
health_timeout: 5s
stop_grace: 2s
backoff_max: 400ms
schedule: "@every 1h"
`, dir, forge.URL())
}
