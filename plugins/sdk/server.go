package sdk

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/herofleet/herofleet/plugins"
	"github.com/herofleet/herofleet/plugins/internal/hookpb"
)

// server adapts a Plugin to the generated Hook service.
type server struct {
	hookpb.UnimplementedHookServer
	p Plugin
}

func (s *server) Info(context.Context, *hookpb.InfoRequest) (*hookpb.InfoResponse, error) {
	return &hookpb.InfoResponse{Name: s.p.Name, Version: s.p.Version, Events: s.p.Events}, nil
}

func (s *server) Run(ctx context.Context, req *hookpb.RunRequest) (*hookpb.RunResponse, error) {
	call := toCall(s.p.Name, req)
	res, err := s.run(ctx, call)
	resp := &hookpb.RunResponse{}
	if res != nil {
		resp.Messages, resp.Env = res.Messages, res.Env
	}
	if err != nil {
		resp.Error = err.Error()
	}
	return resp, nil
}

// run calls the plugin's Run; a panic fails the hook instead of killing the process mid-answer.
func (s *server) run(ctx context.Context, call plugins.Call) (res *plugins.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			Logger().Error("hook panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			res, err = nil, fmt.Errorf("plugin %s panicked: %v", s.p.Name, r)
		}
	}()
	return s.p.Run(ctx, call)
}

func toCall(name string, req *hookpb.RunRequest) plugins.Call {
	return plugins.Call{
		Plugin:   name,
		Event:    req.GetEvent(),
		App:      req.GetApp(),
		Rev:      req.GetRev(),
		Binaries: req.GetBinaries(),
		Host:     req.GetHost(),
		Address:  req.GetAddress(),
		DataDir:  req.GetDataDir(),
		Sockets:  req.GetSockets(),
		Secrets:  req.GetSecrets(),
		Uses:     req.GetUses(),
		With:     req.GetWith().AsMap(),
		Timeout:  time.Duration(req.GetTimeoutMs()) * time.Millisecond,
	}
}
