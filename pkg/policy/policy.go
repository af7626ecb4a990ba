// Package policy decides which addresses a Stampede cluster may send load
// to (--allow-targets / STAMPEDE_ALLOW_TARGETS on masters and workers).
//
// A Policy is a list of allowed entries — "*", a host name, an IP, a
// host:port, or a CIDR — and a list of addresses that are refused unless an
// IP or CIDR entry names them explicitly: link-local and cloud metadata
// addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254), unspecified
// addresses (0.0.0.0, ::), and the cluster's own ZooKeeper servers at their
// client port. Names are resolved and every resolved address is checked;
// Resolve returns the checked address so that a dialer connects to exactly
// that address, not to whatever the name resolves to a moment later.
//
// A Policy is immutable and safe for concurrent use.
package policy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ErrDenied is wrapped by every refusal.
var ErrDenied = errors.New("policy: target not allowed")

// AllowAll is the default --allow-targets: everything but the always
// refused addresses.
const AllowAll = "*"

// Policy is a parsed --allow-targets plus the cluster's refused addresses.
type Policy struct {
	text     string
	any      bool
	prefixes []netip.Prefix // CIDR and IP entries
	hosts    []hostEntry    // name or IP entries, with an optional port
	deny     []denyEntry
	resolver Resolver
}

type hostEntry struct {
	name string     // lower-case host name, or ""
	ip   netip.Addr // or an IP
	port int        // 0: any port
}

type denyEntry struct {
	prefix netip.Prefix
	name   string // or a host name
	port   int    // 0: any port
	why    string
	// strict entries (the ZooKeeper servers) yield only to an ip:port
	// entry naming exactly that address and port
	strict bool
}

// Resolver looks names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

var _ Resolver = (*net.Resolver)(nil)

// alwaysDenied are refused unless an IP or CIDR entry names them.
var alwaysDenied = []denyEntry{
	{prefix: netip.MustParsePrefix("169.254.0.0/16"), why: "a link-local address (cloud metadata lives here)"},
	{prefix: netip.MustParsePrefix("fe80::/10"), why: "a link-local address"},
	{prefix: netip.MustParsePrefix("fd00:ec2::254/128"), why: "a cloud metadata address"},
	{prefix: netip.MustParsePrefix("0.0.0.0/8"), why: "an unspecified address"},
	{prefix: netip.MustParsePrefix("::/128"), why: "an unspecified address"},
}

// New parses allow (comma- or space-separated entries; empty means "*")
// and refuses, on top of the always refused addresses, the ZooKeeper
// servers of zkConnect ("host:port,host:port", names resolved now). A
// ZooKeeper server on a loopback address has its port refused on every
// loopback address.
func New(ctx context.Context, allow, zkConnect string, r Resolver) (*Policy, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	p := &Policy{text: strings.TrimSpace(allow), resolver: r, deny: append([]denyEntry(nil), alwaysDenied...)}
	if p.text == "" {
		p.text = AllowAll
	}
	for _, e := range strings.FieldsFunc(p.text, func(r rune) bool { return r == ',' || r == ' ' }) {
		if err := p.addEntry(e); err != nil {
			return nil, fmt.Errorf("--allow-targets %q: %w", e, err)
		}
	}
	if err := p.denyZooKeeper(ctx, zkConnect); err != nil {
		return nil, err
	}
	return p, nil
}

// String is the --allow-targets text the policy was made from.
func (p *Policy) String() string { return p.text }

func (p *Policy) addEntry(e string) error {
	switch {
	case e == "*":
		p.any = true
	case strings.Contains(e, "/"):
		pre, err := netip.ParsePrefix(e)
		if err != nil {
			return err
		}
		p.prefixes = append(p.prefixes, pre.Masked())
	default:
		host, port := e, 0
		if h, ps, err := net.SplitHostPort(e); err == nil {
			n, err := strconv.Atoi(ps)
			if err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("bad port %q", ps)
			}
			host, port = h, n
		}
		he := hostEntry{port: port}
		if ip, err := netip.ParseAddr(host); err == nil {
			he.ip = ip.Unmap()
		} else if host != "" {
			he.name = strings.ToLower(strings.TrimSuffix(host, "."))
		} else {
			return errors.New("empty host")
		}
		p.hosts = append(p.hosts, he)
	}
	return nil
}

func (p *Policy) denyZooKeeper(ctx context.Context, zkConnect string) error {
	for _, s := range strings.Split(zkConnect, ",") {
		s = strings.TrimSpace(s)
		if i := strings.Index(s, "/"); i >= 0 { // a chroot suffix
			s = s[:i]
		}
		if s == "" {
			continue
		}
		host, ps, err := net.SplitHostPort(s)
		if err != nil {
			host, ps = s, "2181"
		}
		port, err := strconv.Atoi(ps)
		if err != nil {
			return fmt.Errorf("ZooKeeper server %q: bad port", s)
		}
		addrs, err := p.lookup(ctx, host)
		if err != nil {
			return fmt.Errorf("ZooKeeper server %q: %w", s, err)
		}
		why := "the cluster's ZooKeeper server " + s
		p.deny = append(p.deny, denyEntry{name: strings.ToLower(strings.TrimSuffix(host, ".")), port: port, why: why, strict: true})
		for _, a := range addrs {
			pre := netip.PrefixFrom(a, a.BitLen())
			if a.IsLoopback() || a.IsUnspecified() {
				pre = loopbackOf(a)
			}
			p.deny = append(p.deny, denyEntry{prefix: pre, port: port, why: why, strict: true})
		}
	}
	return nil
}

func loopbackOf(a netip.Addr) netip.Prefix {
	if a.Is4() {
		return netip.MustParsePrefix("127.0.0.0/8")
	}
	return netip.MustParsePrefix("::1/128")
}

func (p *Policy) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip.Unmap()}, nil
	}
	addrs, err := p.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%s resolves to no address", host)
	}
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = a.Unmap()
	}
	return out, nil
}

// CheckURL checks the target of an http(s) URL; see Resolve.
func (p *Policy) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	_, err = p.Resolve(ctx, net.JoinHostPort(u.Hostname(), port))
	return err
}

// Resolve resolves hostport and checks every address it resolves to. It
// returns the first address, the one to dial: a caller that dials it (and
// not the name again) cannot be redirected by a DNS answer that changes
// after the check. The error wraps ErrDenied when the policy refuses.
func (p *Policy) Resolve(ctx context.Context, hostport string) (netip.AddrPort, error) {
	host, ps, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 1 || port > 65535 {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", ps)
	}
	addrs, err := p.lookup(ctx, host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, a := range addrs {
		if err := p.check(name, a, port); err != nil {
			return netip.AddrPort{}, err
		}
	}
	return netip.AddrPortFrom(addrs[0], uint16(port)), nil
}

// CheckAddr checks one address a dialer is about to connect to (name is
// the host name it came from, or "").
func (p *Policy) CheckAddr(name string, ap netip.AddrPort) error {
	return p.check(strings.ToLower(name), ap.Addr().Unmap(), int(ap.Port()))
}

func (p *Policy) check(name string, a netip.Addr, port int) error {
	allowed, explicit, exact := p.allows(name, a, port)
	target := netip.AddrPortFrom(a, uint16(port)).String()
	if name != "" && name != a.String() {
		target = fmt.Sprintf("%s (%s)", net.JoinHostPort(name, strconv.Itoa(port)), target)
	}
	if !allowed {
		return fmt.Errorf("%w: %s is not in --allow-targets %q", ErrDenied, target, p.text)
	}
	for _, d := range p.deny {
		if exact || (explicit && !d.strict) || (d.port != 0 && d.port != port) {
			continue
		}
		if (d.prefix.IsValid() && d.prefix.Contains(a)) || (d.name != "" && d.name == name) {
			return fmt.Errorf("%w: %s is %s (allow it by IP or CIDR in --allow-targets to send load there)", ErrDenied, target, d.why)
		}
	}
	return nil
}

// allows matches the allow list: allowed by any entry; explicit when an IP
// or CIDR entry names a (which overrides the refusals); exact when an
// ip:port entry names a and port (which overrides them all).
func (p *Policy) allows(name string, a netip.Addr, port int) (allowed, explicit, exact bool) {
	for _, pre := range p.prefixes {
		explicit = explicit || pre.Contains(a)
	}
	allowed = p.any || explicit
	for _, h := range p.hosts {
		if h.port != 0 && h.port != port {
			continue
		}
		if h.ip.IsValid() && h.ip == a {
			allowed, explicit = true, true
			exact = exact || h.port == port
		}
		if h.name != "" && h.name == name {
			allowed = true
		}
	}
	return allowed, explicit, exact
}
