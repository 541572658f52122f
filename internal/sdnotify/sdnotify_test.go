package sdnotify

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func listen(t *testing.T) *net.UnixConn {
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return conn
}

// pings counts the WATCHDOG=1 datagrams that arrive within d.
func pings(conn *net.UnixConn, d time.Duration) int {
	n := 0
	buf := make([]byte, 64)
	conn.SetReadDeadline(time.Now().Add(d))
	for {
		k, err := conn.Read(buf)
		if err != nil {
			return n
		}
		if strings.TrimSpace(string(buf[:k])) == "WATCHDOG=1" {
			n++
		}
	}
}

func TestWatchdogPingsWhileAlive(t *testing.T) {
	conn := listen(t)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var hung atomic.Bool
	block := make(chan struct{})
	defer close(block)
	go Watchdog(ctx, func() {
		if hung.Load() {
			<-block
		}
	})
	if n := pings(conn, 400*time.Millisecond); n < 4 {
		t.Fatalf("%d pings in 400ms with a 100ms watchdog; want one every 50ms", n)
	}
	hung.Store(true)
	time.Sleep(150 * time.Millisecond) // a ping under way may still land
	pings(conn, 10*time.Millisecond)
	if n := pings(conn, 300*time.Millisecond); n != 0 {
		t.Fatalf("%d pings while the alive check hangs; want none", n)
	}
}

func TestNoWatchdogNoSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	if err := Notify("READY=1"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { Watchdog(context.Background(), func() {}); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Watchdog without WATCHDOG_USEC did not return")
	}
	t.Setenv("WATCHDOG_USEC", "1000000")
	t.Setenv("WATCHDOG_PID", "1")
	if WatchdogInterval() != 0 {
		t.Fatal("a watchdog for another pid counted")
	}
}
