// Package sdnotify speaks systemd's notify protocol (sd_notify(3)) for the agent's watchdog: a datagram to
// $NOTIFY_SOCKET. Without that variable (no systemd, zinit, a shell, tests) every call does nothing.
package sdnotify

import (
	"context"
	"net"
	"os"
	"strconv"
	"time"
)

// Notify sends state ("READY=1", "WATCHDOG=1") to $NOTIFY_SOCKET; it does nothing without one.
func Notify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if path[0] == '@' {
		path = "\x00" + path[1:] // an abstract socket
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write([]byte(state))
	return err
}

// WatchdogInterval is the unit's WatchdogSec as systemd passes it to this process ($WATCHDOG_USEC, for
// $WATCHDOG_PID when set); 0 when there is no watchdog.
func WatchdogInterval() time.Duration {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(usec) * time.Microsecond
}

// Watchdog pings systemd's watchdog every half interval while alive answers within that half interval, until ctx
// ends: a process whose alive check hangs (a deadlocked state) stops pinging, and systemd kills and restarts it.
// It returns at once when there is no watchdog.
func Watchdog(ctx context.Context, alive func()) {
	every := WatchdogInterval() / 2
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		done := make(chan struct{})
		go func() { alive(); close(done) }()
		select {
		case <-done:
			_ = Notify("WATCHDOG=1")
		case <-time.After(every):
			<-done // hung: no ping until it answers (systemd restarts the agent first)
			continue
		case <-ctx.Done():
			return
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}
