package faults

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const emptyFleet = `
-- fleet.yaml --
name: faults
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: []
`

// 1,000 idle connections and one request whose body never arrives: the agent closes them and keeps answering.
func TestIdleConnectionsAndABodyThatNeverArrives(t *testing.T) {
	slow(t) // the main listener's IdleTimeout is 2 minutes and its ReadTimeout 30 seconds
	p := startAgent(t, emptyFleet, "")
	var conns []net.Conn
	for range 1000 {
		c, err := dial(p.api)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	stuck, err := dial(p.api)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stuck.Write([]byte("POST /api/v1/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"))
	if _, err := p.status(); err != nil {
		t.Fatalf("the status does not answer beside 1,000 idle connections: %v", err)
	}
	stuck.SetReadDeadline(time.Now().Add(45 * time.Second))
	io.Copy(io.Discard, stuck)
	bodyClosed := time.Since(start)
	if bodyClosed > 40*time.Second {
		t.Fatalf("the body that never arrives was still open after %s", bodyClosed)
	}
	var wg sync.WaitGroup
	closed := 0
	var mu sync.Mutex
	for _, c := range conns {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(3 * time.Minute))
			b := make([]byte, 1)
			if _, err := c.Read(b); err != nil && !isTimeout(err) {
				mu.Lock()
				closed++
				mu.Unlock()
			}
			c.Close()
		})
	}
	wg.Wait()
	idleClosed := time.Since(start)
	if closed != 1000 {
		t.Fatalf("%d of 1,000 idle connections closed", closed)
	}
	record(Row{
		Fault:    "1,000 idle API connections and a body that never arrives",
		Injected: "1,000 TCP connections that send nothing; a POST announcing 1,000 bytes that sends 3",
		Did:      "kept answering the status; closed the stuck request at its ReadTimeout and the idle ones by the server's timeouts",
		Figure:   fmt.Sprintf("stuck request closed after %s; 1,000 idle closed after %s; peak RSS %s", bodyClosed.Round(time.Second), idleClosed.Round(time.Second), p.peakRSS()),
		Lost:     "nothing",
	})
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// A 100 MiB webhook body is refused after its first few MiB.
func TestHugeWebhookBody(t *testing.T) {
	p := startAgent(t, emptyFleet, "")
	body := io.LimitReader(zeros{}, 100<<20)
	start := time.Now()
	resp, err := http.Post("http://"+p.api+"/api/v1/webhook", "application/json", body)
	took := time.Since(start)
	code := 0
	if err == nil {
		code = resp.StatusCode
		resp.Body.Close()
	}
	if code == http.StatusOK || code == http.StatusAccepted {
		t.Fatalf("a 100 MiB webhook body was accepted: %d", code)
	}
	if _, err := p.status(); err != nil {
		t.Fatalf("the agent does not answer after the body: %v", err)
	}
	how := fmt.Sprintf("answered %d", code)
	if err != nil {
		how = "closed the connection (" + strings.SplitN(err.Error(), ": ", 2)[0] + ")"
	}
	record(Row{
		Fault:    "a 100 MiB webhook body",
		Injected: "POST /api/v1/webhook with 100 MiB of zeros",
		Did:      how + " after reading at most 4 MiB; the status kept answering",
		Figure:   fmt.Sprintf("%s; peak RSS %s", took.Round(time.Millisecond), p.peakRSS()),
		Lost:     "nothing",
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
