package lab

import (
	"context"
	"net"
	"os"
	"path/filepath"
)

// The lab's network: a bridge on the host with a ULA /64 like the overlay's; the forge answers on its host
// address and each machine gets one address from its seed.
const (
	Bridge    = "hflab0"
	Prefix    = "fd5a:1c2:9e3::"
	ForgeAddr = Prefix + "fe"
	ForgePort = "3000"
)

// Addr is a lab address: Prefix followed by the host's part.
func Addr(hostPart string) string { return Prefix + hostPart }

// BridgeUp creates the bridge with the forge's address (no duplicate address detection: it is usable at once).
// A bridge left by an interrupted run is removed first.
func BridgeUp(ctx context.Context) error {
	BridgeDown(ctx)
	if err := run(ctx, "ip", "link", "add", Bridge, "type", "bridge"); err != nil {
		return err
	}
	if err := run(ctx, "ip", "-6", "addr", "add", ForgeAddr+"/64", "dev", Bridge, "nodad"); err != nil {
		return err
	}
	return run(ctx, "ip", "link", "set", Bridge, "up")
}

// BridgeDown removes the bridge when it exists.
func BridgeDown(ctx context.Context) {
	if _, err := os.Stat(filepath.Join("/sys/class/net", Bridge)); err == nil {
		_ = run(ctx, "ip", "link", "del", Bridge)
	}
}

// Links lists the host's network interfaces whose names start with prefix (what a run may leave behind).
func Links(prefix string) []string {
	ifs, _ := net.Interfaces()
	var out []string
	for _, i := range ifs {
		if len(i.Name) >= len(prefix) && i.Name[:len(prefix)] == prefix {
			out = append(out, i.Name)
		}
	}
	return out
}
