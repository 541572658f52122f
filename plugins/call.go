package plugins

import "time"

// Call is one hook invocation, as the agent hands it to the runner. Every URL in With has had the agent's
// rewrites applied, and ${…} variables are expanded.
type Call struct {
	Plugin   string            // the plugin's name: the executable is herofleet-plugin-<name> in the plugins dir
	SHA256   string            // the plugin's pin from fleet.yaml `plugins` (lowercase hex); empty: not pinned
	Event    string            // one of fleet.Events
	App      string            // the app being applied
	Rev      string            // the app's resolved source revision
	Binaries []string          // the app's binary names
	Host     string            // the host's name
	Address  string            // the host's address (${host})
	DataDir  string            // the app's ${data}
	Sockets  string            // ${sockets}
	Secrets  string            // the agent's secrets directory: read by plugins, never logged
	Uses     map[string]string // app named in `uses` -> base URL of its server on the providing host
	With     map[string]any    // the hook's with, expanded
	Timeout  time.Duration     // per-call timeout; zero means the runner's default
}

// Result is what a hook plugin answers.
type Result struct {
	Messages []string          // shown in the agent's log and the job's log tail
	Env      map[string]string // added to the environment of the app's binaries
}
