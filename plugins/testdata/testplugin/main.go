// Command testplugin is a hook plugin that misbehaves on purpose, for the runner's tests. It is built once and
// linked under several names; its name (herofleet-plugin-<name>) picks the behaviour.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-plugin"

	"github.com/herofleet/herofleet/plugins"
	"github.com/herofleet/herofleet/plugins/internal/hookpb"
	"github.com/herofleet/herofleet/plugins/sdk"
)

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), plugins.ExecutablePrefix)
	switch name {
	case "noisy":
		fmt.Println("hello from a plugin that prints before its handshake")
	case "noisy-nonl":
		fmt.Print("no newline here")
	case "silent":
		select {} // never shakes hands
	case "future":
		// speaks only a protocol version this agent does not know
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig: hookpb.Handshake,
			VersionedPlugins: map[int]plugin.PluginSet{
				hookpb.ProtocolVersion + 1: {hookpb.PluginName: &hookpb.GRPCPlugin{Impl: hookpb.UnimplementedHookServer{}}},
			},
			GRPCServer: plugin.DefaultGRPCServer,
		})
		return
	case "exit":
		fmt.Fprintln(os.Stderr, "exit: giving up before the handshake")
		os.Exit(3)
	}
	sdk.Serve(sdk.Plugin{Name: name, Version: "0.1.0", Events: []string{"pre-start", "post-start"}, Run: run(name)})
}

func run(name string) func(context.Context, plugins.Call) (*plugins.Result, error) {
	return func(ctx context.Context, call plugins.Call) (*plugins.Result, error) {
		switch name {
		case "ok":
			sdk.Logger().Info("running", "app", call.App)
			fmt.Fprintln(os.Stderr, "a raw stderr line")
			return &plugins.Result{
				Messages: []string{fmt.Sprintf("%s %s %s with=%v uses=%v", call.Event, call.App, call.DataDir, call.With, call.Uses)},
				Env:      map[string]string{"GREETING": "hello " + call.App},
			}, nil
		case "fail":
			return &plugins.Result{Messages: []string{"tried"}}, errors.New("the library server said no")
		case "hang":
			select {} // ignores its context: the runner must not wait for it
		case "crash":
			os.Exit(7)
		case "spawn":
			// leaves a grandchild behind: the runner kills the plugin's whole process group
			p, err := os.StartProcess("/bin/sleep", []string{"sleep", "300"}, &os.ProcAttr{})
			if err != nil {
				return nil, err
			}
			return &plugins.Result{Messages: []string{fmt.Sprint("spawned ", p.Pid)}}, nil
		case "badenv":
			return &plugins.Result{Env: map[string]string{"LD_PRELOAD": "/tmp/evil.so"}}, nil
		case "spam":
			res := &plugins.Result{}
			for i := range 1000 {
				long := 10
				if i%100 == 0 {
					long = 5000
				}
				res.Messages = append(res.Messages, fmt.Sprintf("line %d\x1b[31m\n%s", i, strings.Repeat("x", long)))
			}
			return res, nil
		case "huge":
			return &plugins.Result{Messages: []string{strings.Repeat("y", 4<<20)}}, nil
		}
		return nil, fmt.Errorf("testplugin: no behaviour %q", name)
	}
}
