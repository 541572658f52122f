package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/template"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/atomicfile"
	"github.com/herofleet/herofleet/plugins"
	"github.com/herofleet/herofleet/plugins/sdk"
)

// maxFileBytes bounds the rendered file (and the old one read back to compare).
const maxFileBytes = 1 << 20

type config struct {
	Path     string `json:"path"`
	Template string `json:"template"`
	Secret   string `json:"secret,omitempty"`
	Env      string `json:"env,omitempty"`
}

// data is what a template sees.
type data struct {
	App      string
	Host     string // the host's address, as ${host}
	HostName string
	Data     string
	Sockets  string
	Uses     map[string]string
	Secret   string
}

// render writes the configured file, unless it already holds exactly what would be written.
func render(_ context.Context, call plugins.Call) (*plugins.Result, error) {
	var cfg config
	if err := sdk.DecodeWith(call.With, &cfg); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	path, err := sdk.InDataDir(call, cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	d := data{App: call.App, Host: call.Address, HostName: call.Host, Data: call.DataDir, Sockets: call.Sockets, Uses: call.Uses}
	if cfg.Secret != "" {
		if d.Secret, err = sdk.ReadSecret(call, cfg.Secret); err != nil {
			return nil, err
		}
	}
	content, err := execute(cfg.Template, d)
	if err != nil {
		return nil, err
	}
	res := &plugins.Result{}
	if cfg.Env != "" {
		res.Env = map[string]string{cfg.Env: path}
	}
	if same(path, content) {
		res.Messages = []string{fmt.Sprintf("%s is up to date", path)}
		return res, nil
	}
	if err := writeAtomic(path, content); err != nil {
		return nil, err
	}
	res.Messages = []string{fmt.Sprintf("wrote %s (%d bytes, mode 0600)", path, len(content))}
	return res, nil
}

func (c config) check() error {
	switch {
	case c.Path == "":
		return errors.New("with.path is required")
	case c.Template == "":
		return errors.New("with.template is required")
	case c.Env != "" && !fleet.ValidEnvName(c.Env):
		return fmt.Errorf("with.env %q is not an environment variable name", c.Env)
	}
	return nil
}

// execute renders the template. Errors name the template's position, never the data (which holds the secret).
func execute(text string, d data) ([]byte, error) {
	funcs := template.FuncMap{
		"use": func(app string) (string, error) {
			u, ok := d.Uses[app]
			if !ok {
				return "", fmt.Errorf("app %q is not in this app's uses", app)
			}
			return u, nil
		},
		// quote makes a double-quoted string that is valid TOML, JSON and YAML.
		"quote": func(s string) (string, error) {
			b, err := json.Marshal(s)
			return string(b), err
		},
	}
	t, err := template.New("template").Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("with.template: %w", err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&limitedBuffer{&buf}, d); err != nil {
		return nil, fmt.Errorf("with.template: %w", err)
	}
	return buf.Bytes(), nil
}

type limitedBuffer struct{ b *bytes.Buffer }

func (w *limitedBuffer) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > maxFileBytes {
		return 0, fmt.Errorf("rendered file is larger than %d bytes", maxFileBytes)
	}
	return w.b.Write(p)
}

// same reports whether path is a regular file with mode 0600 holding content.
func same(path string, content []byte) bool {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 || fi.Size() != int64(len(content)) {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	old, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	return err == nil && bytes.Equal(old, content)
}

// writeAtomic writes content to a temporary file beside path and renames it over path, so the app never reads a
// half-written file, and a symlink at path is replaced rather than followed.
func writeAtomic(path string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, content, 0o600)
}
