package k8s_test

import (
	"net"
	"strconv"
	"testing"
)

// A NetworkPolicy evaluator with the API's semantics, for the rules
// Stampede's manifests use: a pod selected by no policy of a direction is
// open in that direction; a selected pod allows only what some rule of
// some policy selecting it allows. A peer's podSelector alone means pods of
// the policy's namespace, namespaceSelector alone any pod of a matching
// namespace, both together both; an ipBlock matches addresses outside the
// pods; an empty from/to matches every peer, empty ports every port.

// NetPol is the part of a NetworkPolicy the evaluator reads.
type NetPol struct {
	PodSelector Selector     `json:"podSelector"`
	PolicyTypes []string     `json:"policyTypes"`
	Ingress     []NetPolRule `json:"ingress"`
	Egress      []NetPolRule `json:"egress"`
}

// NetPolRule is one ingress (From) or egress (To) rule.
type NetPolRule struct {
	From  []NetPolPeer `json:"from"`
	To    []NetPolPeer `json:"to"`
	Ports []struct {
		Port     Port   `json:"port"`
		Protocol string `json:"protocol"`
	} `json:"ports"`
}

// NetPolPeer is a rule's peer.
type NetPolPeer struct {
	PodSelector       *Selector `json:"podSelector"`
	NamespaceSelector *Selector `json:"namespaceSelector"`
	IPBlock           *struct {
		CIDR   string   `json:"cidr"`
		Except []string `json:"except"`
	} `json:"ipBlock"`
}

// endpoint is a pod (Namespace set) or an address outside the pods (IP).
type endpoint struct {
	Name      string
	Namespace string
	NSLabels  map[string]string
	Labels    map[string]string
	IP        string
}

// policies are the rendered NetworkPolicies, all in the namespace stampede.
type policies []NetPol

func networkPolicies(t *testing.T, m *Manifests) policies {
	t.Helper()
	var out policies
	for _, o := range m.OfKind("NetworkPolicy") {
		if o.Metadata.Namespace != namespace {
			t.Errorf("NetworkPolicy %s in namespace %q, want %s", o.Metadata.Name, o.Metadata.Namespace, namespace)
		}
		var np NetPol
		decodeSpec(t, o, &np)
		out = append(out, np)
	}
	return out
}

// selects reports whether sel (matchLabels; {} matches all) matches labels.
func selects(sel Selector, labels map[string]string) bool {
	for k, v := range sel.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func (p NetPol) has(policyType string) bool {
	for _, pt := range p.PolicyTypes {
		if pt == policyType {
			return true
		}
	}
	return false
}

func (peer NetPolPeer) matches(e endpoint) bool {
	if peer.IPBlock != nil {
		return e.IP != "" && inBlock(e.IP, peer.IPBlock.CIDR, peer.IPBlock.Except)
	}
	if e.IP != "" {
		return false
	}
	if peer.NamespaceSelector == nil && e.Namespace != namespace {
		return false // a podSelector alone: pods of the policy's namespace
	}
	if peer.NamespaceSelector != nil && !selects(*peer.NamespaceSelector, e.NSLabels) {
		return false
	}
	return peer.PodSelector == nil || selects(*peer.PodSelector, e.Labels)
}

func inBlock(ip, cidr string, except []string) bool {
	addr := net.ParseIP(ip)
	_, block, err := net.ParseCIDR(cidr)
	if addr == nil || err != nil || !block.Contains(addr) {
		return false
	}
	for _, x := range except {
		if _, n, err := net.ParseCIDR(x); err == nil && n.Contains(addr) {
			return false
		}
	}
	return true
}

func (r NetPolRule) allows(peers []NetPolPeer, e endpoint, port int, proto string) bool {
	portOK := len(r.Ports) == 0
	for _, p := range r.Ports {
		pr := p.Protocol
		if pr == "" {
			pr = "TCP"
		}
		portOK = portOK || (string(p.Port) == strconv.Itoa(port) && pr == proto)
	}
	if !portOK {
		return false
	}
	if len(peers) == 0 {
		return true
	}
	for _, peer := range peers {
		if peer.matches(e) {
			return true
		}
	}
	return false
}

// allowed reports whether from may open a connection to port/proto of to:
// from's egress and to's ingress must both allow it.
func (ps policies) allowed(from, to endpoint, port int, proto string) bool {
	return ps.direction("Egress", from, to, port, proto) && ps.direction("Ingress", to, from, port, proto)
}

// direction evaluates one side: self is the pod the policies would select,
// peer the other end.
func (ps policies) direction(kind string, self, peer endpoint, port int, proto string) bool {
	if self.IP != "" || self.Namespace != namespace {
		return true // not a pod these policies can select
	}
	selected := false
	for _, p := range ps {
		if !p.has(kind) || !selects(p.PodSelector, self.Labels) {
			continue
		}
		selected = true
		rules := p.Ingress
		if kind == "Egress" {
			rules = p.Egress
		}
		for _, r := range rules {
			peers := r.From
			if kind == "Egress" {
				peers = r.To
			}
			if r.allows(peers, peer, port, proto) {
				return true
			}
		}
	}
	return !selected
}
