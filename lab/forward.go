package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// Forward serves on a loopback port of the host what the machine serves on target inside its own network namespace
// (its cockpit on 127.0.0.1:7070): `ssh -L` without ssh. It returns the host's address; it stops with ctx.
func (m *Machine) Forward(ctx context.Context, target string) (string, error) {
	pid, err := m.PID1(ctx)
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := dialIn(pid, target)
				if err != nil {
					return
				}
				defer up.Close()
				var wg sync.WaitGroup
				wg.Add(2)
				go func() { defer wg.Done(); _, _ = io.Copy(up, c); closeWrite(up) }()
				go func() { defer wg.Done(); _, _ = io.Copy(c, up); closeWrite(c) }()
				wg.Wait()
			}()
		}
	}()
	return ln.Addr().String(), nil
}

// dialIn connects to target from inside the network namespace of pid. The dial runs on an OS thread of its own
// that enters the namespace and is never handed back to the Go scheduler (it ends with its goroutine); the socket
// keeps the namespace it was made in.
func dialIn(pid int, target string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{nil, fmt.Errorf("enter the network namespace of pid %d: %w", pid, err)}
			return
		}
		c, err := net.Dial("tcp", target)
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}
