package k8s_test

import (
	"sort"
	"strings"
	"testing"
)

// Pod is what a kubelet would know about one pod of a workload: its name and
// IP, which the downward API hands to containers.
type Pod struct {
	Name string
	IP   string
}

// EnvEntry is one resolved environment variable and where it came from.
type EnvEntry struct {
	Name, Value string
	// Plumbing is true for a variable the container only sets to build
	// others with $(NAME) (e.g. POD_IP for STAMPEDE_API_URL).
	Plumbing bool
}

// resolveEnv computes a container's environment the way the kubelet does:
// envFrom ConfigMaps first, then env in order, each value expanded with
// $(NAME) references to variables defined before it ($$ is a literal $,
// unknown references stay as written); fieldRef reads the pod.
func resolveEnv(t testing.TB, m *Manifests, c Container, pod Pod) []EnvEntry {
	t.Helper()
	var out []EnvEntry
	index := map[string]int{}
	set := func(name, value string) {
		if i, ok := index[name]; ok {
			out[i].Value = value
			return
		}
		index[name] = len(out)
		out = append(out, EnvEntry{Name: name, Value: value})
	}
	lookup := func(name string) (string, bool) {
		if i, ok := index[name]; ok {
			return out[i].Value, true
		}
		return "", false
	}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			t.Fatalf("container %s: only envFrom configMapRef is supported here", c.Name)
		}
		cm := m.Find(t, "ConfigMap", ef.ConfigMapRef.Name)
		for _, k := range sortedKeys(cm.Data) {
			set(k, cm.Data[k])
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			set(e.Name, expand(e.Value, lookup))
		case e.ValueFrom.FieldRef != nil:
			switch p := e.ValueFrom.FieldRef.FieldPath; p {
			case "metadata.name":
				set(e.Name, pod.Name)
			case "status.podIP":
				set(e.Name, pod.IP)
			default:
				t.Fatalf("container %s env %s: fieldRef %s is not emulated", c.Name, e.Name, p)
			}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			set(e.Name, m.Find(t, "ConfigMap", ref.Name).Data[ref.Key])
		default:
			t.Fatalf("container %s env %s: valueFrom kind not emulated", c.Name, e.Name)
		}
	}
	for i := range out {
		out[i].Plumbing = referenced(c, out[i].Name)
	}
	return out
}

// referenced reports whether $(name) appears in another env value, the
// command or the args of c.
func referenced(c Container, name string) bool {
	ref := "$(" + name + ")"
	for _, e := range c.Env {
		if e.Name != name && strings.Contains(e.Value, ref) {
			return true
		}
	}
	for _, s := range append(append([]string{}, c.Command...), c.Args...) {
		if strings.Contains(s, ref) {
			return true
		}
	}
	return false
}

// expand implements Kubernetes' $(VAR) expansion for env values, command
// and args.
func expand(s string, lookup func(string) (string, bool)) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// envValue returns the value of name in env.
func envValue(env []EnvEntry, name string) (string, bool) {
	for _, e := range env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"POD_IP": "10.1.2.3", "A": "x"}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	for _, tc := range []struct{ in, want string }{
		{"http://$(POD_IP):8080", "http://10.1.2.3:8080"},
		{"$(A)$(A)", "xx"},
		{"$$(A)", "$(A)"},
		{"$(UNKNOWN)", "$(UNKNOWN)"},
		{"$(( ${HOSTNAME##*-} + 1 ))", "$(( ${HOSTNAME##*-} + 1 ))"},
		{"cost $5", "cost $5"},
		{"$(A", "$(A"},
	} {
		if got := expand(tc.in, lookup); got != tc.want {
			t.Errorf("expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
