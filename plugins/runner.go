package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/plugins/internal/hookpb"
)

// Default timeouts of a Runner.
const (
	DefaultStartTimeout = 10 * time.Second
	DefaultCallTimeout  = fleet.DefaultHookTimeout
)

// Runner runs hook plugins for the agent. It is safe for concurrent use: every call starts its own plugin
// process and kills it before returning, so no plugin outlives the call that needed it.
type Runner struct {
	Dirs         []string      // where to look for herofleet-plugin-<name>, in order (see Dirs)
	Logger       *slog.Logger  // plugin stderr and messages are logged here with plugin=<name>; nil: slog.Default()
	StartTimeout time.Duration // start and handshake; zero: DefaultStartTimeout
	CallTimeout  time.Duration // Info and Run together, when the Call sets none; zero: DefaultCallTimeout
}

// Info is what a plugin says about itself.
type Info struct {
	Name    string
	Version string
	Events  []string
	Path    string // the executable that answered
}

// Run runs one hook: it starts the plugin, checks that it handles call.Event, runs it and kills it. A hook that
// fails, times out, crashes or answers out of bounds returns an *Error (see the Err* kinds); the Result then
// still carries any messages the plugin sent.
func (r *Runner) Run(ctx context.Context, call Call) (*Result, error) {
	fail := func(err error) error { return &Error{Plugin: call.Plugin, App: call.App, Event: call.Event, Err: err} }
	timeout := firstPositive(call.Timeout, r.CallTimeout, DefaultCallTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := toRequest(call, timeout) // a with that cannot be sent fails before any process starts
	if err != nil {
		return nil, fail(err)
	}

	s, err := r.start(ctx, call.Plugin, call.SHA256)
	if err != nil {
		return nil, fail(err)
	}
	defer s.close()
	log := s.log.With("app", call.App, "event", call.Event)
	began := time.Now()

	info, err := s.info(ctx, timeout)
	if err != nil {
		return nil, fail(err)
	}
	if !slices.Contains(info.Events, call.Event) {
		return nil, fail(fmt.Errorf("%w: %s handles %v, not %s", ErrUnsupported, call.Plugin, info.Events, call.Event))
	}
	resp, err := s.hook.Run(ctx, req)
	if err != nil {
		return nil, fail(s.rpcError(ctx, "run", timeout, err))
	}
	res, err := toResult(resp)
	if err == nil && resp.GetError() != "" {
		err = fmt.Errorf("%w: %s", ErrHookFailed, clean(resp.GetError(), MaxMessageLen))
	}
	// On success the agent logs the messages with its own context; on failure they explain the error, so they
	// are logged here at info.
	level := slog.LevelDebug
	if err != nil {
		level = slog.LevelInfo
	}
	for _, m := range res.Messages {
		log.Log(ctx, level, "hook message", "msg", m)
	}
	if err != nil {
		return res, fail(err)
	}
	log.Info("hook done", "took", time.Since(began).Round(time.Millisecond), "env", len(res.Env))
	return res, nil
}

// Info starts a plugin only to ask what it is; validation and the cockpit use it.
func (r *Runner) Info(ctx context.Context, name, sha256 string) (*Info, error) {
	timeout := firstPositive(0, r.CallTimeout, DefaultCallTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	s, err := r.start(ctx, name, sha256)
	if err != nil {
		return nil, &Error{Plugin: name, Err: err}
	}
	defer s.close()
	info, err := s.info(ctx, timeout)
	if err != nil {
		return nil, &Error{Plugin: name, Err: err}
	}
	return info, nil
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// info asks the plugin's Info and checks it.
func (s *session) info(ctx context.Context, timeout time.Duration) (*Info, error) {
	resp, err := s.hook.Info(ctx, &hookpb.InfoRequest{})
	if err != nil {
		return nil, s.rpcError(ctx, "info", timeout, err)
	}
	if err := checkInfo(s.name, resp); err != nil {
		return nil, err
	}
	return &Info{Name: resp.GetName(), Version: resp.GetVersion(), Events: resp.GetEvents(), Path: s.path}, nil
}

// rpcError says why a call to the plugin failed: our deadline, the caller's cancellation, or the plugin itself.
func (s *session) rpcError(ctx context.Context, what string, timeout time.Duration, err error) error {
	if c := status.Code(err); c == codes.DeadlineExceeded || c == codes.Canceled {
		// The plugin's side of the deadline can end the stream a moment before our own timer fires.
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		s.kill() // a hung plugin gets no graceful shutdown
		return fmt.Errorf("%w: %s did not answer within %s", ErrTimeout, what, timeout)
	case ctx.Err() != nil:
		s.kill()
		return fmt.Errorf("%s: %w", what, ctx.Err())
	case status.Code(err) == codes.ResourceExhausted:
		return fmt.Errorf("%w: %s answer larger than %d bytes", ErrBadAnswer, what, MaxAnswerBytes)
	case s.exited():
		return fmt.Errorf("%w: exited during %s: %v", ErrCrashed, what, grpcMessage(err))
	default:
		return fmt.Errorf("%w: %s: %v", ErrCrashed, what, grpcMessage(err))
	}
}

func firstPositive(ds ...time.Duration) time.Duration {
	for _, d := range ds {
		if d > 0 {
			return d
		}
	}
	return 0
}
