package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/plugins"
)

// HookRunner runs one hook call; the plugins package provides the real one.
type HookRunner interface {
	Run(ctx context.Context, c plugins.Call) (*plugins.Result, error)
}

// errNoRunner fails an apply whose app has hooks when the agent was started without a hook runner.
var errNoRunner = errors.New("the app has hooks but this agent has no hook runner")

// runHooks runs every hook of event, in order. The returned env is what the plugins asked to add to the app's
// binaries.
func (r *Runner) runHooks(ctx context.Context, event string, t *Target, hooks []fleet.Hook) (map[string]string, error) {
	env := map[string]string{}
	for i, h := range hooks {
		if h.On != event {
			continue
		}
		if r.hooks == nil {
			return nil, fmt.Errorf("%s hook %s: %w", event, h.Plugin, errNoRunner)
		}
		with, err := r.expandWith(h.With, t.vars)
		if err != nil {
			return nil, fmt.Errorf("hooks[%d].with: %w", i, err)
		}
		call := plugins.Call{
			Plugin: h.Plugin, SHA256: t.pins[h.Plugin], Event: event, App: t.vars.App, Rev: t.vars.Rev, Binaries: t.binaryNames,
			Host: r.cfg.Host, Address: t.vars.Host, DataDir: t.vars.Data, Sockets: t.vars.Sockets,
			Secrets: r.cfg.SecretsDir, Uses: t.uses, With: with, Timeout: h.Timeout.Duration,
		}
		res, err := r.hooks.Run(ctx, call)
		if err != nil {
			return nil, fmt.Errorf("%s hook %s: %w", event, h.Plugin, err)
		}
		if res != nil {
			for _, m := range res.Messages {
				r.log.Info("hook", "app", t.vars.App, "plugin", h.Plugin, "event", event, "msg", m)
			}
			for k, v := range res.Env {
				env[k] = v
			}
		}
	}
	return env, nil
}

// expandWith expands ${…} in every string of a hook's with and applies the URL rewrites to each.
func (r *Runner) expandWith(v any, vars fleet.Vars) (map[string]any, error) {
	out, err := r.expandValue(v, vars)
	if err != nil {
		return nil, err
	}
	m, _ := out.(map[string]any)
	return m, nil
}

func (r *Runner) expandValue(v any, vars fleet.Vars) (any, error) {
	switch x := v.(type) {
	case string:
		s, err := fleet.Expand(x, vars)
		if err != nil {
			return nil, err
		}
		if strings.Contains(s, "://") || strings.Contains(s, "@") {
			s = r.cfg.Rewrite(s)
		}
		return s, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ev, err := r.expandValue(e, vars)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			ev, err := r.expandValue(e, vars)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	}
	return v, nil
}
