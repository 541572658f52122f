// Command testapp is the app the agent's tests install. Called as "testapp build OUT..." it is the build: it copies
// itself to every OUT (failing when the tree holds FAIL_BUILD, pausing for $SLOW_BUILD, holding while the file
// $BUILD_GATE exists, printing $NOISY_BUILD bytes without a newline). Under any other name it is a binary: it
// serves /health and / on --listen tcp://HOST:PORT or unix://PATH.
//
// A gate is a file a test creates to hold the app in a known place and removes to let it go on: the build waits
// while $BUILD_GATE exists, /health answers 503 while --health-gate exists, and a SIGTERM is held (after writing
// <gate>.<name>.term) while --stop-gate exists.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "build" {
		build(os.Args[2:])
		return
	}
	serve(os.Args[1:])
}

func build(outs []string) {
	fmt.Println("testapp: building", outs)
	if _, err := os.Stat("FAIL_BUILD"); err == nil {
		fmt.Println("testapp: FAIL_BUILD present: failing")
		os.Exit(1)
	}
	if n, err := strconv.Atoi(os.Getenv("NOISY_BUILD")); err == nil { // n bytes of output without a newline
		chunk := []byte(strings.Repeat("x", 64<<10))
		for ; n > 0; n -= len(chunk) {
			os.Stdout.Write(chunk[:min(n, len(chunk))])
		}
	}
	if gate := os.Getenv("BUILD_GATE"); gate != "" {
		waitGate(gate)
	}
	if d, err := time.ParseDuration(os.Getenv("SLOW_BUILD")); err == nil {
		fmt.Println("testapp: slow build", d)
		time.Sleep(d)
	}
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		fail(err)
	}
	for _, out := range outs {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			fail(err)
		}
		if err := os.WriteFile(out, data, 0o755); err != nil {
			fail(err)
		}
	}
}

func serve(args []string) {
	name := filepath.Base(os.Args[0])
	var listen string
	var healthFail bool
	var healthDelay, exitAfter time.Duration
	var ignoreTerm, healthHang, logRequests bool
	var healthGate, stopGate string
	for i := 0; i < len(args); i++ {
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch args[i] {
		case "--listen":
			listen = next()
		case "--health-fail":
			healthFail = true
		case "--health-delay":
			healthDelay, _ = time.ParseDuration(next())
		case "--exit-after":
			exitAfter, _ = time.ParseDuration(next())
		case "--ignore-term": // a binary that ignores SIGTERM: only SIGKILL ends it
			signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
			ignoreTerm = true
		case "--log-requests": // a line on stdout for every request
			logRequests = true
		case "--health-hang": // /health accepts and never answers
			healthHang = true
		case "--health-gate": // /health answers 503 while this file exists
			healthGate = next()
		case "--stop-gate": // a SIGTERM is held while this file exists
			stopGate = next()
		case "--fork-worker": // a worker in the binary's process group, its pid written to the given file
			w := exec.Command("sleep", "300")
			if err := w.Start(); err == nil {
				os.WriteFile(next(), []byte(strconv.Itoa(w.Process.Pid)), 0o644)
			}
		}
	}
	if exitAfter > 0 {
		time.AfterFunc(exitAfter, func() { fmt.Println(name, "exiting on purpose"); os.Exit(2) })
	}
	started := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if logRequests {
			fmt.Println(name, "request", r.URL.Path)
		}
		if healthHang {
			<-r.Context().Done()
			return
		}
		if healthFail || time.Since(started) < healthDelay || exists(healthGate) {
			http.Error(w, "not healthy", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "binary=%s args=%s\n", name, strings.Join(os.Args[1:], " "))
		fmt.Fprintf(w, "env=%s\n", strings.Join(os.Environ(), ";"))
	})
	if listen == "" {
		fmt.Println(name, "running without a listen address")
		select {}
	}
	network, addr, _ := strings.Cut(listen, "://")
	ln, err := net.Listen(network, addr)
	if err != nil {
		fail(err)
	}
	go func() {
		if ignoreTerm {
			return
		}
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
		<-c
		if exists(stopGate) {
			os.WriteFile(stopGate+"."+name+".term", nil, 0o644)
			waitGate(stopGate)
		}
		ln.Close()
		os.Exit(0)
	}()
	fmt.Println(name, "listening on", listen)
	_ = http.Serve(ln, mux)
}

func exists(path string) bool {
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return err == nil
}

// waitGate returns once the file gate is gone.
func waitGate(gate string) {
	for exists(gate) {
		time.Sleep(20 * time.Millisecond)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "testapp:", err)
	os.Exit(1)
}
