package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// install follows its job until the deadline (exit 2, naming the phase it is still in) or until it is
// interrupted; either way it stops polling.
func TestInstallFollowStops(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		srv := httptest.NewServer(&fakeAgent{}) // job 1-voice is building for its first polls
		defer srv.Close()
		tokenFile := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(tokenFile, []byte("tok\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out := runCLI(t, "--agent", srv.URL, "--token-file", tokenFile, "install", "voice", "--timeout", "1ns")
		if code != exitFailed {
			t.Fatalf("exit %d, want %d\n%s", code, exitFailed, out)
		}
		for _, w := range []string{"voice: install job 1-voice", "voice: building", "voice: still building after 1ns; `herofleet status` follows it"} {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		var polls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			polls.Add(1)
			fmt.Fprint(w, `{"id":"1-voice","app":"voice","phase":"building"}`)
		}))
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The interrupt comes while the first phase is printed, so the wait for the next poll sees it.
		out := &cancelOnWrite{cancel: cancel}
		cl := &agentClient{base: srv.URL, http: srv.Client()}
		err := followJob(ctx, cl, "voice", "1-voice", time.Hour, out)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("followJob: %v, want context.Canceled", err)
		}
		if out.String() != "voice: building\n" || polls.Load() != 1 {
			t.Fatalf("printed %q after %d poll(s)", out.String(), polls.Load())
		}
	})
}

type cancelOnWrite struct {
	bytes.Buffer
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.cancel()
	return w.Buffer.Write(p)
}
