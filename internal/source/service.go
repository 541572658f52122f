package source

import (
	"context"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/herofleet/herofleet/fleet"
)

// maxServiceFile bounds a service.toml read from an app's repo.
const maxServiceFile = 256 << 10

// ServiceFiles reads the service.toml files of repo at ref (fleet.IsServiceFile): deep validation's source.
func (c *Cache) ServiceFiles(ctx context.Context, url, ref string) ([]fleet.ServiceFile, string, error) {
	repo, h, err := c.Resolve(ctx, url, ref)
	if err != nil {
		return nil, "", err
	}
	commit, err := repo.CommitObject(h)
	if err != nil {
		return nil, "", err
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, "", err
	}
	var out []fleet.ServiceFile
	err = tree.Files().ForEach(func(f *object.File) error {
		if !fleet.IsServiceFile(f.Name) || !f.Mode.IsFile() {
			return nil
		}
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer r.Close()
		data, err := io.ReadAll(io.LimitReader(r, maxServiceFile+1))
		if err != nil {
			return err
		}
		if len(data) > maxServiceFile {
			return fmt.Errorf("%s is over %d bytes", f.Name, maxServiceFile)
		}
		out = append(out, fleet.ServiceFile{Path: f.Name, Data: data})
		return nil
	})
	return out, h.String(), err
}
