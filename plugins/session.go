package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/herofleet/herofleet/fleet"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/herofleet/herofleet/plugins/internal/hookpb"
)

// session is one running plugin process and the gRPC client to it.
type session struct {
	name, path string
	log        *slog.Logger
	client     *plugin.Client
	cmd        *exec.Cmd
	hook       hookpb.HookClient
	stdio      []*lineLogger
}

// start finds, verifies and starts a plugin, and completes the handshake. On error nothing is left running.
func (r *Runner) start(ctx context.Context, name, pin string) (*session, error) {
	path, err := Find(r.Dirs, name)
	if err != nil {
		return nil, err
	}
	log := r.logger().With("plugin", name)
	s := &session{name: name, path: path, log: log, cmd: exec.Command(path)}
	s.cmd.Env = minimalEnv()
	s.cmd.Dir = "/"
	setProcessAttrs(s.cmd)
	stdout := &lineLogger{l: log.With("stream", "stdout"), level: slog.LevelInfo}
	stderr := &lineLogger{l: log.With("stream", "stderr"), level: slog.LevelInfo}
	s.stdio = []*lineLogger{stdout, stderr}

	startTimeout := firstPositive(r.StartTimeout, DefaultStartTimeout)
	if d, ok := ctx.Deadline(); ok && time.Until(d) < startTimeout {
		startTimeout = max(time.Until(d), time.Millisecond)
	}
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  hookpb.Handshake,
		VersionedPlugins: hookpb.VersionedPlugins(nil),
		Cmd:              s.cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     startTimeout,
		Logger:           newHCLog(log),
		SyncStdout:       stdout,
		SyncStderr:       stderr,
		GRPCDialOptions: []grpc.DialOption{
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxAnswerBytes)),
		},
	}
	if pin != "" {
		if !fleet.ValidSHA256(pin) {
			return nil, fmt.Errorf("%w: pin %q is not 64 lowercase hex digits", ErrPinMismatch, pin)
		}
		sum, _ := hex.DecodeString(pin)
		cfg.SecureConfig = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	s.client = plugin.NewClient(cfg)

	rpc, err := s.client.Client()
	if err != nil {
		s.close()
		return nil, startError(path, startTimeout, err)
	}
	raw, err := rpc.Dispense(hookpb.PluginName)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	hook, ok := raw.(hookpb.HookClient)
	if !ok {
		s.close()
		return nil, fmt.Errorf("%w: dispensed %T, not a hook client", ErrHandshake, raw)
	}
	s.hook = hook
	log.Debug("plugin started", "path", path, "pid", s.pid(), "protocol", s.client.NegotiatedVersion())
	return s, nil
}

// startError turns go-plugin's start failures into errors that say what to do.
func startError(path string, timeout time.Duration, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("%w: %s (rebuild or re-pin it)", ErrPinMismatch, path)
	case strings.HasPrefix(msg, "Unrecognized remote plugin message: "):
		line, _, _ := strings.Cut(strings.TrimPrefix(msg, "Unrecognized remote plugin message: "), "\n")
		if line == "" {
			return fmt.Errorf("%w: %s exited or closed its stdout before its handshake (see its stderr in the log)", ErrHandshake, path)
		}
		return fmt.Errorf("%w: %s wrote to stdout before its handshake: %q (a plugin must not print to stdout before sdk.Serve)",
			ErrHandshake, path, clean(line, 200))
	case strings.HasPrefix(msg, "error parsing core protocol version"):
		return fmt.Errorf("%w: %s wrote to stdout before its handshake (its first line is not one: %s)", ErrHandshake, path, clean(msg, 200))
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("%w: %s did not complete its handshake within %s (not a herofleet hook plugin, or it printed to stdout without a newline)",
			ErrTimeout, path, timeout)
	case strings.Contains(msg, "plugin exited before we could connect"):
		return fmt.Errorf("%w: %s exited before its handshake (see its stderr in the log)", ErrHandshake, path)
	case strings.Contains(msg, "Incompatible API version") || strings.Contains(msg, "incompatible"):
		return fmt.Errorf("%w: %s speaks another protocol version: %v", ErrHandshake, path, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrHandshake, path, err)
}

// close stops the plugin: gracefully when it is healthy, then its whole process group.
func (s *session) close() {
	if s.client != nil {
		s.client.Kill()
	}
	s.kill()
	for _, w := range s.stdio {
		w.Flush()
	}
}

func (s *session) pid() int {
	if s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// kill ends the plugin process and anything it started, at once.
func (s *session) kill() {
	if pid := s.pid(); pid > 0 {
		killGroup(pid)
	}
}

func (s *session) exited() bool { return s.client != nil && s.client.Exited() }

// minimalEnv is what a plugin process gets from the agent: no tokens, no agent config.
func minimalEnv() []string {
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}
	if home, err := os.UserHomeDir(); err == nil {
		env = append(env, "HOME="+home)
	}
	return env
}

// toRequest puts a Call on the wire. With goes through JSON first so that any Go value the agent expanded
// ([]string, nested maps, ints) becomes a protobuf Struct.
func toRequest(call Call, timeout time.Duration) (*hookpb.RunRequest, error) {
	req := &hookpb.RunRequest{
		Event: call.Event, App: call.App, Rev: call.Rev, Binaries: call.Binaries,
		Host: call.Host, Address: call.Address, DataDir: call.DataDir, Sockets: call.Sockets,
		Secrets: call.Secrets, Uses: call.Uses, TimeoutMs: timeout.Milliseconds(),
	}
	if len(call.With) == 0 {
		return req, nil
	}
	b, err := json.Marshal(call.With)
	if err != nil {
		return nil, fmt.Errorf("with: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("with: %w", err)
	}
	if req.With, err = structpb.NewStruct(m); err != nil {
		return nil, fmt.Errorf("with: %w", err)
	}
	return req, nil
}

func grpcMessage(err error) string {
	if st, ok := status.FromError(err); ok {
		return clean(st.Message(), MaxMessageLen)
	}
	return clean(err.Error(), MaxMessageLen)
}
