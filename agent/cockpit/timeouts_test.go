package cockpit

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// A request whose body never arrives, and an idle keep-alive connection, are closed by the main listener.
func TestMainListenerClosesSlowAndIdleConnections(t *testing.T) {
	h := newHarness(t)
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
`)
	api := NewAPI(h.newAgent(), testToken)
	api.ReadTimeout, api.IdleTimeout = 300*time.Millisecond, 300*time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- api.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()

	// a body that never arrives
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("POST /api/v1/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"))
	if !closedWithin(c, 3*time.Second) {
		t.Error("a request whose body never arrives is still open after 3s")
	}

	// an idle keep-alive connection
	k, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	k.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(k), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if !closedWithin(k, 3*time.Second) {
		t.Error("an idle keep-alive connection is still open after 3s")
	}
}

// closedWithin reads c (discarding any answer) until the server closes it or d passes.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}
