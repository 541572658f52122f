package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The benchmark is its own app: "app-build [--sleep D] OUT..." is a build that copies this executable to every OUT
// (after D, so an install can be made to last), and "app-serve --listen unix://PATH" is a binary serving /health.

func appBuild(args []string) {
	if len(args) > 1 && args[0] == "--sleep" {
		d, err := time.ParseDuration(args[1])
		if err != nil {
			appFail(err)
		}
		fmt.Println("bench app: slow build", d)
		time.Sleep(d)
		args = args[2:]
	}
	self, err := os.Executable()
	if err != nil {
		appFail(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		appFail(err)
	}
	for _, out := range args {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			appFail(err)
		}
		if err := os.WriteFile(out, data, 0o755); err != nil {
			appFail(err)
		}
	}
}

func appServe(args []string) {
	if len(args) != 2 || args[0] != "--listen" {
		appFail(fmt.Errorf("usage: app-serve --listen unix://PATH"))
	}
	network, addr, _ := strings.Cut(args[1], "://")
	ln, err := net.Listen(network, addr)
	if err != nil {
		appFail(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	_ = http.Serve(ln, mux)
}

func appFail(err error) {
	fmt.Fprintln(os.Stderr, "bench app:", err)
	os.Exit(1)
}
