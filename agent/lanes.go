package agent

import (
	"context"
	"sync"
)

// lanes serialize what changes one app's processes. An apply or a removal of the app, and a person's start, stop
// or restart of one of its binaries, each run alone in the app's lane: two of them never interleave on one app,
// so a restart clicked during an upgrade can neither start the old revision's argv nor stop half of the new one.
// Apps have a lane each, so a long build of one app does not hold back a person's control of another.
type lanes struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// enter waits for app's lane until ctx ends; leave must be called once the work is done.
func (l *lanes) enter(ctx context.Context, app string) (leave func(), err error) {
	l.mu.Lock()
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
