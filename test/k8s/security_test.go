package k8s_test

import (
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// secretFile resolves a file path a container's variable names to the
// Secret and key behind it ("" if no Secret volume holds that path), and
// the volume's file mode.
func secretFile(t *testing.T, tmpl PodTemplate, c Container, file string) (secret, key string, mode int) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if path.Dir(file) != path.Clean(m.MountPath) {
			continue
		}
		for _, v := range tmpl.Spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			if !m.ReadOnly {
				t.Errorf("container %s mounts Secret %s read-write", c.Name, v.Secret.SecretName)
			}
			mode = 0o644
			if v.Secret.DefaultMode != nil {
				mode = *v.Secret.DefaultMode
			}
			for _, it := range v.Secret.Items {
				if it.Path == path.Base(file) {
					return v.Secret.SecretName, it.Key, mode
				}
			}
			if len(v.Secret.Items) == 0 {
				return v.Secret.SecretName, path.Base(file), mode
			}
		}
	}
	return "", "", 0
}

// The masters read the API tokens and the ZooKeeper secret, the workers
// only the ZooKeeper secret, from Secrets the user creates (none is in the
// manifests), mounted read-only and unreadable by other users; nothing
// turns authentication off.
func TestSecretsWired(t *testing.T) {
	m := render(t, withTargetDir)
	if s := m.OfKind("Secret"); len(s) != 0 {
		t.Errorf("the manifests hold %d Secret objects: a secret must not be committed", len(s))
	}
	// docs/kubernetes.md has users create exactly the Secrets the pods
	// mount (and the local-process test mounts, userSecrets).
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "kubernetes.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name, keys := range userSecrets() {
		for key := range keys {
			if cmd := "create secret generic " + name + " --from-file=" + key; !strings.Contains(string(doc), cmd) {
				t.Errorf("docs/kubernetes.md lacks %q", cmd)
			}
		}
	}
	want := map[string]map[string]string{ // workload -> variable -> "secret/key"
		"master": {"STAMPEDE_TOKENS_FILE": "stampede-tokens/tokens", "STAMPEDE_ZK_AUTH_FILE": "stampede-zk-auth/zk-auth"},
		"worker": {"STAMPEDE_ZK_AUTH_FILE": "stampede-zk-auth/zk-auth"},
	}
	for _, sc := range stampedeContainers(t, m) {
		env := resolveEnv(t, m, sc.c, Pod{Name: "p", IP: "10.0.0.1"})
		for _, e := range env {
			if e.Name == "STAMPEDE_NO_AUTH" || strings.Contains(strings.Join(sc.c.Args, " "), "--no-auth") {
				t.Errorf("%s turns API authentication off", sc.workload)
			}
		}
		for name, ref := range want[sc.workload] {
			file, ok := envValue(env, name)
			if !ok {
				t.Errorf("%s: no %s", sc.workload, name)
				continue
			}
			secret, key, mode := secretFile(t, sc.tmpl, sc.c, file)
			if secret+"/"+key != ref {
				t.Errorf("%s: %s=%s is %q in a Secret volume, want %s", sc.workload, name, file, secret+"/"+key, ref)
			}
			if mode&0o007 != 0 {
				t.Errorf("%s: Secret %s mounted with mode %#o, readable by other users", sc.workload, secret, mode)
			}
			if mode&0o040 != 0 && sc.tmpl.Spec.SecurityContext.FSGroup == nil {
				t.Errorf("%s: Secret %s is group-readable but the pod sets no fsGroup to read it as", sc.workload, secret)
			}
		}
		if sc.workload != "master" {
			for _, v := range sc.tmpl.Spec.Volumes {
				if v.Secret != nil && v.Secret.SecretName == "stampede-tokens" {
					t.Errorf("%s mounts the API tokens, which only masters need", sc.workload)
				}
			}
		}
	}
}

// The NetworkPolicies let ZooKeeper's client port be reached only by
// masters, workers and its members and its quorum ports only by its
// members; the API and health ports only from the namespace and
// namespaces labelled stampede.io/api-access=true; masters reach only
// ZooKeeper and DNS; workers reach targets but not metadata addresses.
func TestNetworkPolicies(t *testing.T) {
	m := render(t, withTargetDir)
	ps := networkPolicies(t, m)
	pods := map[string]endpoint{}
	nsLabels := map[string]string{"kubernetes.io/metadata.name": namespace}
	for _, o := range m.Workloads() {
		pods[o.Metadata.Name] = endpoint{Name: o.Metadata.Name, Namespace: namespace, NSLabels: nsLabels,
			Labels: workload(t, o).Template.Metadata.Labels}
	}
	for _, name := range []string{"master", "worker", "zk", "target"} {
		if _, ok := pods[name]; !ok {
			t.Fatalf("no workload %s in %s", name, withTargetDir)
		}
	}
	pods["debug"] = endpoint{Name: "a pod of the namespace", Namespace: namespace, NSLabels: nsLabels, Labels: map[string]string{"run": "debug"}}
	pods["other"] = endpoint{Name: "a pod of another namespace", Namespace: "other",
		NSLabels: map[string]string{"kubernetes.io/metadata.name": "other"}, Labels: map[string]string{"app": "x"}}
	pods["ingress"] = endpoint{Name: "an ingress controller", Namespace: "ingress",
		NSLabels: map[string]string{"kubernetes.io/metadata.name": "ingress", "stampede.io/api-access": "true"}, Labels: map[string]string{"app": "nginx"}}
	pods["dns"] = endpoint{Name: "kube-dns", Namespace: "kube-system",
		NSLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}, Labels: map[string]string{"k8s-app": "kube-dns"}}
	ip := func(a string) endpoint { return endpoint{Name: a, IP: a} }
	for _, tt := range []struct {
		from, to endpoint
		port     int
		proto    string
		want     bool
	}{
		{pods["worker"], pods["zk"], 2181, "TCP", true},
		{pods["master"], pods["zk"], 2181, "TCP", true},
		{pods["zk"], pods["zk"], 2181, "TCP", true},
		{pods["zk"], pods["zk"], 2888, "TCP", true},
		{pods["zk"], pods["zk"], 3888, "TCP", true},
		{pods["worker"], pods["zk"], 2888, "TCP", false},
		{pods["master"], pods["zk"], 3888, "TCP", false},
		{pods["target"], pods["zk"], 2181, "TCP", false},
		{pods["debug"], pods["zk"], 2181, "TCP", false},
		{pods["other"], pods["zk"], 2181, "TCP", false},
		{pods["ingress"], pods["zk"], 2181, "TCP", false},
		{pods["debug"], pods["master"], 8080, "TCP", true},
		{pods["ingress"], pods["master"], 8080, "TCP", true},
		{pods["other"], pods["master"], 8080, "TCP", false},
		{pods["ingress"], pods["master"], 9999, "TCP", false},
		{pods["ingress"], pods["worker"], 8082, "TCP", true},
		{pods["other"], pods["worker"], 8082, "TCP", false},
		{pods["worker"], pods["target"], 8081, "TCP", true},
		{pods["other"], pods["target"], 8081, "TCP", false},
		{pods["master"], pods["dns"], 53, "UDP", true},
		{pods["worker"], pods["dns"], 53, "UDP", true},
		{pods["worker"], ip("203.0.113.7"), 443, "TCP", true},
		{pods["worker"], ip("2001:db8::7"), 80, "TCP", true},
		{pods["worker"], ip("169.254.169.254"), 80, "TCP", false},
		{pods["worker"], ip("fd00:ec2::254"), 80, "TCP", false},
		{pods["worker"], ip("fe80::1"), 80, "TCP", false},
		{pods["master"], ip("203.0.113.7"), 443, "TCP", false},
		{pods["master"], pods["target"], 8081, "TCP", false},
		{pods["zk"], pods["master"], 8080, "TCP", false},
		{pods["zk"], ip("203.0.113.7"), 443, "TCP", false},
	} {
		if got := ps.allowed(tt.from, tt.to, tt.port, tt.proto); got != tt.want {
			t.Errorf("%s -> %s:%d/%s allowed = %v, want %v", tt.from.Name, tt.to.Name, tt.port, tt.proto, got, tt.want)
		}
	}
}

// quantityBytes parses the Kubernetes memory quantities the manifests use
// (Ki, Mi, Gi or plain bytes).
func quantityBytes(t *testing.T, q string) int64 {
	t.Helper()
	mult := int64(1)
	for suffix, m := range map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
		if strings.HasSuffix(q, suffix) {
			q, mult = strings.TrimSuffix(q, suffix), m
		}
	}
	n, err := strconv.ParseInt(q, 10, 64)
	if err != nil {
		t.Fatalf("memory quantity %q: %v", q, err)
	}
	return n * mult
}

// The containers' memory fits the bounds the binaries enforce by default:
// ZooKeeper's heap holds eight times the tests' storage budget
// (--retain-bytes, as docs/limits.md advises) and its container more than
// the heap; a master holds --max-api-requests request bodies of twice
// --max-spec-bytes, each converted from YAML (counted four times), within
// half its limit.
func TestMemoryLimitsMatchTheBounds(t *testing.T) {
	m := render(t, baseDir)
	im := buildImages(t)
	master := binaryFlags(t, im.Binary["master"]).Defaults
	num := func(env string) int64 {
		n, err := strconv.ParseInt(master[env], 10, 64)
		if err != nil {
			t.Fatalf("master --help: %s default %q: %v", env, master[env], err)
		}
		return n
	}
	zk := workload(t, m.Find(t, "StatefulSet", "zk")).Template.Spec.Containers[0]
	heapMB, ok := envValue(resolveEnv(t, m, zk, Pod{Name: "zk-0", IP: "10.0.0.1"}), "ZK_SERVER_HEAP")
	if !ok {
		t.Fatal("zk: no ZK_SERVER_HEAP")
	}
	heap := quantityBytes(t, heapMB+"Mi")
	if budget := num("STAMPEDE_RETAIN_BYTES"); heap < 8*budget {
		t.Errorf("ZooKeeper heap %d MiB < 8 x --retain-bytes %d", heap>>20, budget)
	}
	if limit := quantityBytes(t, zk.Resources.Limits["memory"]); limit <= heap {
		t.Errorf("ZooKeeper memory limit %s does not exceed its heap %d MiB", zk.Resources.Limits["memory"], heap>>20)
	}
	mc := workload(t, m.Find(t, "Deployment", "master")).Template.Spec.Containers[0]
	need := num("STAMPEDE_MAX_API_REQUESTS") * 2 * num("STAMPEDE_MAX_SPEC_BYTES") * 4
	if limit := quantityBytes(t, mc.Resources.Limits["memory"]); 2*need > limit {
		t.Errorf("master memory limit %s: %d concurrent requests need %d MiB, more than half of it", mc.Resources.Limits["memory"],
			num("STAMPEDE_MAX_API_REQUESTS"), need>>20)
	}
}
