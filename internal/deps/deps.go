//go:build tools

// Package deps pins the modules the project's packages share, so that parallel work does not race on go.mod.
package deps

import (
	_ "github.com/BurntSushi/toml"
	_ "github.com/ProtonMail/go-crypto/openpgp"
	_ "github.com/alecthomas/chroma/v2"
	_ "github.com/chromedp/chromedp"
	_ "github.com/go-git/go-git/v5"
	_ "github.com/hashicorp/go-hclog"
	_ "github.com/hashicorp/go-plugin"
	_ "github.com/hiddeco/sshsig"
	_ "github.com/invopop/jsonschema"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/robfig/cron/v3"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/spf13/cobra"
	_ "github.com/yuin/goldmark"
	_ "github.com/yuin/goldmark-highlighting/v2"
	_ "go.abhg.dev/goldmark/frontmatter"
	_ "golang.org/x/tools/txtar"
	_ "google.golang.org/grpc"
	_ "google.golang.org/protobuf/proto"
	_ "gopkg.in/yaml.v3"
)
