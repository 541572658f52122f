package plugins

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/plugins/internal/hookpb"
)

// Bounds on what a plugin may answer. Plugin output is untrusted: it ends up in logs, job tails and the
// environment of the app's binaries.
const (
	MaxAnswerBytes = 1 << 20 // one gRPC message from the plugin
	MaxMessages    = 100
	MaxMessageLen  = 2048 // longer messages are cut
	MaxEnv         = 64
	MaxEnvNameLen  = 128
	MaxEnvValueLen = 8192
	maxInfoField   = 128
)

// checkInfo refuses an Info answer that names another plugin or an unknown event.
func checkInfo(want string, info *hookpb.InfoResponse) error {
	if info.GetName() != want {
		return fmt.Errorf("%w: it calls itself %q, its executable says %q", ErrBadAnswer, clean(info.GetName(), maxInfoField), want)
	}
	if len(info.GetVersion()) > maxInfoField {
		return fmt.Errorf("%w: version longer than %d bytes", ErrBadAnswer, maxInfoField)
	}
	if len(info.GetEvents()) > len(fleet.Events) {
		return fmt.Errorf("%w: %d events, there are only %d", ErrBadAnswer, len(info.GetEvents()), len(fleet.Events))
	}
	for _, ev := range info.GetEvents() {
		if !slices.Contains(fleet.Events, ev) {
			return fmt.Errorf("%w: unknown event %q", ErrBadAnswer, clean(ev, maxInfoField))
		}
	}
	return nil
}

// toResult checks a Run answer and turns it into a Result. Messages are cut and cleaned; a bad environment
// variable refuses the whole answer, since it would reach the app's binaries.
func toResult(resp *hookpb.RunResponse) (*Result, error) {
	msgs := resp.GetMessages()
	res := &Result{}
	for i, m := range msgs {
		if i == MaxMessages {
			res.Messages = append(res.Messages, fmt.Sprintf("(%d more messages dropped)", len(msgs)-MaxMessages))
			break
		}
		res.Messages = append(res.Messages, clean(m, MaxMessageLen))
	}
	env := resp.GetEnv()
	if len(env) > MaxEnv {
		return res, fmt.Errorf("%w: %d environment variables, at most %d", ErrBadAnswer, len(env), MaxEnv)
	}
	for name, value := range env {
		switch {
		case len(name) > MaxEnvNameLen || !fleet.ValidEnvName(name):
			return res, fmt.Errorf("%w: environment variable name %q", ErrBadAnswer, clean(name, MaxEnvNameLen))
		case strings.HasPrefix(name, "LD_") || strings.HasPrefix(name, "HEROFLEET_"):
			return res, fmt.Errorf("%w: environment variable %s is reserved", ErrBadAnswer, name)
		case len(value) > MaxEnvValueLen:
			return res, fmt.Errorf("%w: environment variable %s longer than %d bytes", ErrBadAnswer, name, MaxEnvValueLen)
		case strings.IndexByte(value, 0) >= 0:
			return res, fmt.Errorf("%w: environment variable %s holds a NUL byte", ErrBadAnswer, name)
		}
		if res.Env == nil {
			res.Env = map[string]string{}
		}
		res.Env[name] = value
	}
	return res, nil
}

// clean cuts s to at most n bytes (on a rune boundary) and replaces control characters, so that one message is
// one log line.
func clean(s string, n int) string {
	cut := false
	if len(s) > n {
		s, cut = s[:n], true
		// drop a rune cut in half
		for len(s) > 0 {
			if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
				break
			}
			s = s[:len(s)-1]
		}
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	if cut {
		s += "…"
	}
	return s
}
