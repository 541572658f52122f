package apply

import (
	"context"
	"errors"
	"sync"
)

// Lanes serialize what changes one app's processes. An apply or a removal of the app, and a person's start, stop
// or restart of one of its binaries, each run alone in the app's lane: two of them never interleave on one app,
// so a restart clicked during an upgrade can neither start the old revision's argv nor stop half of the new one.
// Apps have a lane each, so a long build of one app does not hold back a person's control of another. Waiters of
// one lane get in in the order they came (Go queues a channel's blocked senders first in, first out).
type Lanes struct {
	mu     sync.Mutex
	m      map[string]chan struct{}
	closed bool
}

// ErrLanesClosed: the agent is stopping; nothing enters a lane any more.
var ErrLanesClosed = errors.New("the agent is stopping")

// Enter waits for app's lane until ctx ends; leave must be called once the work is done.
func (l *Lanes) Enter(ctx context.Context, app string) (leave func(), err error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, ErrLanesClosed
	}
	if l.m == nil {
		l.m = map[string]chan struct{}{}
	}
	lane := l.m[app]
	if lane == nil {
		lane = make(chan struct{}, 1)
		l.m[app] = lane
	}
	l.mu.Unlock()
	select {
	case lane <- struct{}{}:
		return func() { <-lane }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close refuses every new entry and waits until no lane is held (or ctx ends): after it, nothing a lane guards
// runs any more. Calling it again does nothing.
func (l *Lanes) Close(ctx context.Context) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	held := make([]chan struct{}, 0, len(l.m))
	for _, lane := range l.m {
		held = append(held, lane)
	}
	l.mu.Unlock()
	for _, lane := range held {
		select {
		case lane <- struct{}{}:
		case <-ctx.Done():
			return
		}
	}
}
