package policy

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// names is an in-memory DNS: the policy must judge what a name resolves
// to, so tests control the answers.
type names map[string][]string

func (n names) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range n[host] {
		out = append(out, netip.MustParseAddr(s))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no such host %s", host)
	}
	return out, nil
}

var dns = names{
	"target.test":   {"10.1.2.3"},
	"rebind.test":   {"10.1.2.4", "169.254.169.254"},
	"zk.test":       {"10.9.9.9"},
	"metadata.test": {"169.254.169.254"},
	"local.test":    {"127.0.0.1"},
	"localhost":     {"127.0.0.1", "::1"},
}

func TestPolicyDecidesByResolvedAddress(t *testing.T) {
	tests := []struct {
		allow, zk, target string
		ok                bool
		why               string // part of the refusal
	}{
		{"", "127.0.0.1:2181", "127.0.0.1:8081", true, ""},
		{"", "127.0.0.1:2181", "localhost:8081", true, ""},
		{"", "127.0.0.1:2181", "169.254.169.254:80", false, "link-local"},
		{"", "127.0.0.1:2181", "metadata.test:80", false, "link-local"},
		{"", "127.0.0.1:2181", "rebind.test:80", false, "169.254.169.254"},
		{"", "127.0.0.1:2181", "[fe80::1]:80", false, "link-local"},
		{"", "127.0.0.1:2181", "[fd00:ec2::254]:80", false, "metadata"},
		{"", "127.0.0.1:2181", "[::ffff:169.254.169.254]:80", false, "link-local"},
		{"", "127.0.0.1:2181", "0.0.0.0:8081", false, "unspecified"},
		{"", "127.0.0.1:2181", "127.0.0.1:2181", false, "ZooKeeper"},
		{"", "127.0.0.1:2181", "127.0.0.2:2181", false, "ZooKeeper"},
		{"", "127.0.0.1:2181", "local.test:2181", false, "ZooKeeper"},
		{"", "zk.test:2181,zk2.test:2181", "", false, "zk2.test"}, // New fails: unresolvable ZooKeeper
		{"", "zk.test:2181", "10.9.9.9:2181", false, "ZooKeeper"},
		{"", "zk.test:2181", "zk.test:2181", false, "ZooKeeper"},
		{"", "zk.test:2181", "10.9.9.9:8080", true, ""},
		{"*", "10.0.0.1:2181", "10.0.0.1:2181", false, "ZooKeeper"},
		{"10.0.0.0/8", "10.0.0.1:2181", "10.0.0.1:2181", false, "ZooKeeper"},
		{"10.0.0.1:2181", "10.0.0.1:2181", "10.0.0.1:2181", true, ""},
		{"target.test", "127.0.0.1:2181", "target.test:443", true, ""},
		{"target.test", "127.0.0.1:2181", "10.1.2.3:443", false, "not in --allow-targets"},
		{"target.test:8080", "127.0.0.1:2181", "target.test:443", false, "not in --allow-targets"},
		{"10.1.0.0/16", "127.0.0.1:2181", "target.test:80", true, ""},
		{"10.1.0.0/16", "127.0.0.1:2181", "127.0.0.1:80", false, "not in --allow-targets"},
		{"169.254.169.254", "127.0.0.1:2181", "169.254.169.254:80", true, ""},
		{"metadata.test", "127.0.0.1:2181", "metadata.test:80", false, "link-local"}, // a name never unlocks a refused address
		{"127.0.0.1, 10.1.2.3", "127.0.0.1:2181", "target.test:80", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.allow+"|"+tt.zk+"|"+tt.target, func(t *testing.T) {
			p, err := New(context.Background(), tt.allow, tt.zk, dns)
			if tt.target == "" {
				if err == nil || !strings.Contains(err.Error(), tt.why) {
					t.Fatalf("New(%q, zk %q) = %v, want an error naming %q", tt.allow, tt.zk, err, tt.why)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ap, err := p.Resolve(context.Background(), tt.target)
			if tt.ok {
				if err != nil || !ap.IsValid() {
					t.Fatalf("Resolve(%s) under %q = %v, %v; want allowed", tt.target, tt.allow, ap, err)
				}
				return
			}
			if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("Resolve(%s) under %q = %v; want ErrDenied naming %q", tt.target, tt.allow, err, tt.why)
			}
		})
	}
}

func TestResolveReturnsTheCheckedAddress(t *testing.T) {
	p, err := New(context.Background(), "", "127.0.0.1:2181", dns)
	if err != nil {
		t.Fatal(err)
	}
	ap, err := p.Resolve(context.Background(), "target.test:8080")
	if err != nil || ap.String() != "10.1.2.3:8080" {
		t.Fatalf("Resolve = %v, %v; want 10.1.2.3:8080", ap, err)
	}
	if err := p.CheckAddr("target.test", netip.MustParseAddrPort("169.254.169.254:8080")); !errors.Is(err, ErrDenied) {
		t.Fatalf("CheckAddr(metadata) = %v, want ErrDenied", err)
	}
	if err := p.CheckURL(context.Background(), "http://169.254.169.254/latest/meta-data/"); !errors.Is(err, ErrDenied) {
		t.Fatalf("CheckURL(metadata) = %v, want ErrDenied", err)
	}
}

func TestBadEntriesAreErrors(t *testing.T) {
	for _, allow := range []string{"10.0.0.0/33", "host:0", "host:http", ":80"} {
		if _, err := New(context.Background(), allow, "", dns); err == nil {
			t.Errorf("New(%q) accepted a bad entry", allow)
		}
	}
}
