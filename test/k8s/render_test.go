// Package k8s_test checks the kustomize manifests in k8s/ against what a
// cluster and the Stampede binaries expect: they render, their selectors,
// probes, ports and environment agree with the binaries, and their commands
// work when run as local processes against a real ZooKeeper. The API-server
// side (dry-run and a real apply) is scripts/kapi-check.sh (make k8s-check).
//
// This file renders the manifests with `kubectl kustomize` and decodes the
// few fields the tests read.
package k8s_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

// Object is one rendered Kubernetes object.
type Object struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   Meta              `json:"metadata"`
	Spec       json.RawMessage   `json:"spec"`
	Data       map[string]string `json:"data"`
}

// Meta is an object's metadata.
type Meta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// Workload is the spec of a Deployment or StatefulSet.
type Workload struct {
	Replicas             *int        `json:"replicas"`
	Selector             Selector    `json:"selector"`
	ServiceName          string      `json:"serviceName"`
	PodManagementPolicy  string      `json:"podManagementPolicy"`
	Template             PodTemplate `json:"template"`
	VolumeClaimTemplates []struct {
		Metadata Meta `json:"metadata"`
	} `json:"volumeClaimTemplates"`
}

// Selector is a label selector (only matchLabels is used here).
type Selector struct {
	MatchLabels      map[string]string `json:"matchLabels"`
	MatchExpressions []any             `json:"matchExpressions"`
}

// PodTemplate is a workload's pod template.
type PodTemplate struct {
	Metadata Meta    `json:"metadata"`
	Spec     PodSpec `json:"spec"`
}

// PodSpec holds the pod fields the tests check.
type PodSpec struct {
	ServiceAccountName            string          `json:"serviceAccountName"`
	AutomountServiceAccountToken  *bool           `json:"automountServiceAccountToken"`
	TerminationGracePeriodSeconds *int            `json:"terminationGracePeriodSeconds"`
	SecurityContext               SecurityContext `json:"securityContext"`
	Containers                    []Container     `json:"containers"`
	InitContainers                []Container     `json:"initContainers"`
	Volumes                       []Volume        `json:"volumes"`
}

// Volume is a pod volume (the kinds Stampede's manifests use).
type Volume struct {
	Name      string `json:"name"`
	ConfigMap *struct {
		Name string `json:"name"`
	} `json:"configMap"`
	Secret *struct {
		SecretName  string `json:"secretName"`
		DefaultMode *int   `json:"defaultMode"`
		Items       []struct {
			Key  string `json:"key"`
			Path string `json:"path"`
		} `json:"items"`
	} `json:"secret"`
}

// VolumeMount is a container's mount of a pod volume.
type VolumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly"`
}

// SecurityContext covers both the pod and the container variant.
type SecurityContext struct {
	RunAsNonRoot             *bool  `json:"runAsNonRoot"`
	RunAsUser                *int64 `json:"runAsUser"`
	FSGroup                  *int64 `json:"fsGroup"`
	ReadOnlyRootFilesystem   *bool  `json:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool  `json:"allowPrivilegeEscalation"`
	Privileged               *bool  `json:"privileged"`
	Capabilities             *struct {
		Drop []string `json:"drop"`
		Add  []string `json:"add"`
	} `json:"capabilities"`
	SeccompProfile *struct {
		Type string `json:"type"`
	} `json:"seccompProfile"`
}

// Container holds the container fields the tests check.
type Container struct {
	Name    string   `json:"name"`
	Image   string   `json:"image"`
	Command []string `json:"command"`
	Args    []string `json:"args"`
	Env     []EnvVar `json:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `json:"name"`
		} `json:"configMapRef"`
		SecretRef *struct {
			Name string `json:"name"`
		} `json:"secretRef"`
	} `json:"envFrom"`
	Ports []struct {
		Name          string `json:"name"`
		ContainerPort int    `json:"containerPort"`
	} `json:"ports"`
	ReadinessProbe *Probe `json:"readinessProbe"`
	LivenessProbe  *Probe `json:"livenessProbe"`
	StartupProbe   *Probe `json:"startupProbe"`
	Resources      struct {
		Requests map[string]string `json:"requests"`
		Limits   map[string]string `json:"limits"`
	} `json:"resources"`
	SecurityContext *SecurityContext `json:"securityContext"`
	VolumeMounts    []VolumeMount    `json:"volumeMounts"`
}

// EnvVar is one container environment variable.
type EnvVar struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	ValueFrom *struct {
		FieldRef *struct {
			FieldPath string `json:"fieldPath"`
		} `json:"fieldRef"`
		ConfigMapKeyRef *struct {
			Name string `json:"name"`
			Key  string `json:"key"`
		} `json:"configMapKeyRef"`
	} `json:"valueFrom"`
}

// Probe is a readiness, liveness or startup probe.
type Probe struct {
	HTTPGet *struct {
		Path string `json:"path"`
		Port Port   `json:"port"`
	} `json:"httpGet"`
	TCPSocket *struct {
		Port Port `json:"port"`
	} `json:"tcpSocket"`
	Exec *struct {
		Command []string `json:"command"`
	} `json:"exec"`
}

// Port is an int-or-string port: a number or a container port's name.
type Port string

// UnmarshalJSON accepts a number or a string.
func (p *Port) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*p = Port(s)
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("port %s: neither a number nor a name", b)
	}
	*p = Port(strconv.Itoa(n))
	return nil
}

// ServiceSpec is a Service's spec.
type ServiceSpec struct {
	ClusterIP                string            `json:"clusterIP"`
	PublishNotReadyAddresses bool              `json:"publishNotReadyAddresses"`
	Selector                 map[string]string `json:"selector"`
	Ports                    []struct {
		Name       string `json:"name"`
		Port       int    `json:"port"`
		TargetPort Port   `json:"targetPort"`
	} `json:"ports"`
}

// PDBSpec is a PodDisruptionBudget's spec.
type PDBSpec struct {
	MinAvailable   *Port    `json:"minAvailable"`
	MaxUnavailable *Port    `json:"maxUnavailable"`
	Selector       Selector `json:"selector"`
}

// Manifests is one rendered kustomization.
type Manifests struct {
	Dir     string
	Objects []Object
}

// repoRoot is the module root (this package lives in test/k8s/).
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repo root %s has no go.mod: %v", root, err)
	}
	return root
}

var (
	renderMu    sync.Mutex
	renderCache = map[string]*Manifests{}
)

// render runs `kubectl kustomize` on dir (relative to the repo root) once per
// test binary and decodes every object. kubectl is part of the machine image.
func render(t testing.TB, dir string) *Manifests {
	t.Helper()
	renderMu.Lock()
	defer renderMu.Unlock()
	if m, ok := renderCache[dir]; ok {
		return m
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl not on PATH (it renders the kustomizations): %v", err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", filepath.Join(repoRoot(t), dir))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, stderr.String())
	}
	objs, err := decodeAll(stdout.Bytes())
	if err != nil {
		t.Fatalf("decoding kubectl kustomize %s: %v", dir, err)
	}
	m := &Manifests{Dir: dir, Objects: objs}
	renderCache[dir] = m
	return m
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// decodeAll splits a multi-document YAML stream and decodes each object.
func decodeAll(stream []byte) ([]Object, error) {
	var out []Object
	for i, doc := range docSep.Split(string(stream), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		var o Object
		if err := json.Unmarshal(j, &o); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// Find returns the object of that kind and name, failing the test if absent.
func (m *Manifests) Find(t testing.TB, kind, name string) Object {
	t.Helper()
	for _, o := range m.Objects {
		if o.Kind == kind && o.Metadata.Name == name {
			return o
		}
	}
	t.Fatalf("%s: no %s %q in the rendered manifests", m.Dir, kind, name)
	return Object{}
}

// OfKind returns every object of a kind, in rendered order.
func (m *Manifests) OfKind(kind string) []Object {
	var out []Object
	for _, o := range m.Objects {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// Workloads returns every Deployment and StatefulSet.
func (m *Manifests) Workloads() []Object {
	return append(m.OfKind("Deployment"), m.OfKind("StatefulSet")...)
}

// decodeSpec decodes an object's spec into v, failing the test on error.
func decodeSpec(t testing.TB, o Object, v any) {
	t.Helper()
	if err := json.Unmarshal(o.Spec, v); err != nil {
		t.Fatalf("%s/%s spec: %v", o.Kind, o.Metadata.Name, err)
	}
}

// workload decodes a Deployment's or StatefulSet's spec.
func workload(t testing.TB, o Object) Workload {
	t.Helper()
	var w Workload
	decodeSpec(t, o, &w)
	return w
}

// service decodes a Service's spec.
func service(t testing.TB, o Object) ServiceSpec {
	t.Helper()
	var s ServiceSpec
	decodeSpec(t, o, &s)
	return s
}

// matches reports whether every selector label is among labels (an empty
// selector matches nothing here: no Stampede object should select all pods).
func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// containerPort resolves a probe's or Service's port (number or name) in c.
func containerPort(c Container, p Port) (int, bool) {
	if n, err := strconv.Atoi(string(p)); err == nil {
		for _, cp := range c.Ports {
			if cp.ContainerPort == n {
				return n, true
			}
		}
		return n, false
	}
	for _, cp := range c.Ports {
		if cp.Name == string(p) {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}
