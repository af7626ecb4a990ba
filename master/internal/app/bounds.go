package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/stampede-load/stampede/master/internal/api"
	"github.com/stampede-load/stampede/master/internal/retention"
	"github.com/stampede-load/stampede/pkg/config"
	"github.com/stampede-load/stampede/pkg/policy"
)

// BoundsFlags defines the master's operator bounds (docs/limits.md): the
// spec limits, --allow-targets and retention. The returned function, called
// after Parse, builds them; zk is the ZooKeeper connect string, whose
// servers the target policy refuses.
func BoundsFlags(fs *config.Set) func(ctx context.Context, zk string) (api.Guard, error) {
	limits := fs.Limits(false)
	allow := fs.String("allow-targets", policy.AllowAll, "targets tests may send load to: hosts, host:port, CIDRs or * (link-local, metadata and ZooKeeper addresses only when named by IP)")
	rd := retention.DefaultConfig()
	keep := fs.Int("retain-tests", rd.RetainTests, "finished tests kept; older ones are deleted")
	keepFor := fs.Duration("retain-for", rd.RetainFor, "how long a finished test is kept")
	budget := fs.Int("retain-bytes", int(rd.Budget), "bytes all tests together may hold in ZooKeeper; a new test beyond it is refused (429) and the oldest finished ones are pruned")
	return func(ctx context.Context, zk string) (api.Guard, error) {
		l := limits()
		r := retention.Config{RetainTests: *keep, RetainFor: *keepFor, Budget: int64(*budget), Reserve: rd.Reserve}
		p, err := policy.New(ctx, *allow, zk, nil)
		if err != nil {
			return api.Guard{}, err
		}
		if err := errors.Join(l.Validate(), r.Validate()); err != nil {
			return api.Guard{}, err
		}
		if r.Charge(l.SpecBytes) > r.Budget {
			return api.Guard{}, fmt.Errorf("--retain-bytes %d cannot hold even one test of --max-spec-bytes %d", r.Budget, l.SpecBytes)
		}
		return api.Guard{Limits: &l, Policy: p, Retention: &r}, nil
	}
}
