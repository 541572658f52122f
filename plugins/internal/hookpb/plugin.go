package hookpb

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ProtocolVersion is the hook protocol's go-plugin version. Both sides use VersionedPlugins, so a future version 2
// can be served next to version 1 and negotiated per plugin.
const ProtocolVersion = 1

// PluginName is the single plugin a hook executable dispenses.
const PluginName = "hook"

// Handshake keeps a hook plugin from being run by hand or by another go-plugin host: the agent sets the cookie,
// and the plugin refuses to serve without it.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "HEROFLEET_PLUGIN",
	MagicCookieValue: "hook-8f1c2a9e4b7d",
}

// GRPCPlugin is the go-plugin binding of the Hook service. The plugin side sets Impl; the host side leaves it
// nil and receives a HookClient from Dispense.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl HookServer
}

// GRPCServer registers the hook service on the plugin's gRPC server.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("hookpb: no hook server to register")
	}
	RegisterHookServer(s, p.Impl)
	return nil
}

// GRPCClient returns a HookClient on the connection to the plugin.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewHookClient(c), nil
}

// VersionedPlugins is the plugin set for every protocol version this build speaks.
func VersionedPlugins(server HookServer) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &GRPCPlugin{Impl: server}},
	}
}
