package sdk

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/herofleet/herofleet/plugins"
	"github.com/herofleet/herofleet/plugins/internal/hookpb"
)

// dial serves p in-process over go-plugin's real gRPC transport and returns a client to it.
func dial(t *testing.T, p Plugin) hookpb.HookClient {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		hookpb.PluginName: &hookpb.GRPCPlugin{Impl: &server{p: p}},
	})
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(hookpb.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(hookpb.HookClient)
}

func TestProtocolInfo(t *testing.T) {
	c := dial(t, Plugin{Name: "demo", Version: "1.2.3", Events: []string{"pre-start", "post-start"}})
	info, err := c.Info(context.Background(), &hookpb.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetName() != "demo" || info.GetVersion() != "1.2.3" || strings.Join(info.GetEvents(), ",") != "pre-start,post-start" {
		t.Errorf("info = %v", info)
	}
}

func TestProtocolRun(t *testing.T) {
	var got plugins.Call
	c := dial(t, Plugin{Name: "demo", Events: []string{"pre-start"}, Run: func(_ context.Context, call plugins.Call) (*plugins.Result, error) {
		got = call
		return &plugins.Result{Messages: []string{"done"}, Env: map[string]string{"A": "1"}}, nil
	}})
	with, _ := structpb.NewStruct(map[string]any{"into": "/data/x", "repos": []any{map[string]any{"name": "a"}}})
	resp, err := c.Run(context.Background(), &hookpb.RunRequest{
		Event: "pre-start", App: "books", Rev: "abc", Binaries: []string{"s", "w"}, Host: "t1", Address: "[::1]",
		DataDir: "/data/books", Sockets: "/run", Secrets: "/secrets", Uses: map[string]string{"voice": "http://v/"},
		With: with, TimeoutMs: 1500,
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetError() != "" || resp.GetMessages()[0] != "done" || resp.GetEnv()["A"] != "1" {
		t.Errorf("resp = %v", resp)
	}
	if got.Plugin != "demo" || got.App != "books" || got.Rev != "abc" || got.DataDir != "/data/books" || got.Secrets != "/secrets" ||
		got.Uses["voice"] != "http://v/" || got.Timeout.Milliseconds() != 1500 || len(got.Binaries) != 2 || got.Address != "[::1]" {
		t.Errorf("call = %+v", got)
	}
	var cfg struct {
		Into  string `json:"into"`
		Repos []struct {
			Name string `json:"name"`
		} `json:"repos"`
	}
	if err := DecodeWith(got.With, &cfg); err != nil || cfg.Into != "/data/x" || cfg.Repos[0].Name != "a" {
		t.Errorf("with = %+v, %v", cfg, err)
	}
}

func TestProtocolRunErrors(t *testing.T) {
	tests := []struct {
		name string
		run  func(context.Context, plugins.Call) (*plugins.Result, error)
		want string
		msgs int
	}{
		{"error", func(context.Context, plugins.Call) (*plugins.Result, error) {
			return &plugins.Result{Messages: []string{"half way"}}, errors.New("clone failed")
		}, "clone failed", 1},
		{"panic", func(context.Context, plugins.Call) (*plugins.Result, error) { panic("boom") }, "plugin demo panicked: boom", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, Plugin{Name: "demo", Events: []string{"pre-start"}, Run: tt.run})
			resp, err := c.Run(context.Background(), &hookpb.RunRequest{Event: "pre-start"})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetError() != tt.want || len(resp.GetMessages()) != tt.msgs {
				t.Errorf("resp = %v, want error %q and %d messages", resp, tt.want, tt.msgs)
			}
		})
	}
}

func TestPluginCheck(t *testing.T) {
	run := func(context.Context, plugins.Call) (*plugins.Result, error) { return nil, nil }
	tests := []struct {
		p    Plugin
		want string
	}{
		{Plugin{Name: "ok", Events: []string{"pre-start"}, Run: run}, ""},
		{Plugin{Name: "Bad Name", Events: []string{"pre-start"}, Run: run}, "does not match"},
		{Plugin{Name: "x", Run: run}, "handles no events"},
		{Plugin{Name: "x", Events: []string{"pre-install"}, Run: run}, `unknown event "pre-install"`},
		{Plugin{Name: "x", Events: []string{"pre-start"}}, "no Run function"},
	}
	for _, tt := range tests {
		err := tt.p.Check()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: err = %v, want %q", tt.p.Name, err, tt.want)
		}
	}
}
