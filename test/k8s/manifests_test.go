package k8s_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The two entry points users apply: the base and the base plus the target.
const (
	baseDir       = "k8s"
	withTargetDir = "k8s/overlays/with-target"
	namespace     = "stampede"
)

func kindNames(m *Manifests) []string {
	var out []string
	for _, o := range m.Objects {
		out = append(out, o.Kind+"/"+o.Metadata.Name)
	}
	sort.Strings(out)
	return out
}

// TestRenderedObjects pins what `kubectl apply -k` creates: no CRD, nothing
// outside the namespace but the namespace itself, generated ConfigMaps.
func TestRenderedObjects(t *testing.T) {
	base := []string{
		"ConfigMap/stampede", "ConfigMap/zookeeper", "Deployment/master", "Deployment/worker",
		"Namespace/stampede", "NetworkPolicy/default-deny-ingress", "NetworkPolicy/master", "NetworkPolicy/worker",
		"NetworkPolicy/zookeeper", "PodDisruptionBudget/master", "PodDisruptionBudget/zk", "Service/master", "Service/zk", "Service/zk-hs",
		"ServiceAccount/stampede", "StatefulSet/zk",
	}
	withTarget := append(slices.Clone(base), "Deployment/target", "NetworkPolicy/target", "Service/target")
	sort.Strings(withTarget)
	for _, tc := range []struct {
		dir  string
		want []string
	}{{baseDir, base}, {withTargetDir, withTarget}} {
		m := render(t, tc.dir)
		var got []string
		for _, kn := range kindNames(m) {
			// generated ConfigMaps carry a content hash: ConfigMap/stampede-5f7k...
			if strings.HasPrefix(kn, "ConfigMap/") {
				kn = kn[:strings.LastIndex(kn, "-")]
			}
			got = append(got, kn)
		}
		sort.Strings(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("kubectl kustomize %s objects:\n got %v\nwant %v", tc.dir, got, tc.want)
		}
		for _, o := range m.Objects {
			if o.Kind == "Namespace" {
				continue
			}
			if o.Metadata.Namespace != namespace {
				t.Errorf("%s: %s/%s namespace = %q, want %q", tc.dir, o.Kind, o.Metadata.Name, o.Metadata.Namespace, namespace)
			}
		}
	}
}

// TestLabels checks the app.kubernetes.io labels on every object and every
// pod template.
func TestLabels(t *testing.T) {
	m := render(t, withTargetDir)
	objectLabels := []string{
		"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
		"app.kubernetes.io/part-of", "app.kubernetes.io/managed-by",
	}
	for _, o := range m.Objects {
		for _, l := range objectLabels {
			if o.Metadata.Labels[l] == "" {
				t.Errorf("%s/%s: label %s missing", o.Kind, o.Metadata.Name, l)
			}
		}
		if got := o.Metadata.Labels["app.kubernetes.io/part-of"]; got != "stampede" {
			t.Errorf("%s/%s: part-of = %q, want stampede", o.Kind, o.Metadata.Name, got)
		}
	}
	for _, o := range m.Workloads() {
		w := workload(t, o)
		for _, l := range objectLabels {
			if w.Template.Metadata.Labels[l] == "" {
				t.Errorf("%s/%s pod template: label %s missing", o.Kind, o.Metadata.Name, l)
			}
		}
		if got, want := w.Template.Metadata.Labels["app.kubernetes.io/component"], o.Metadata.Labels["app.kubernetes.io/component"]; got != want {
			t.Errorf("%s/%s: pod template component %q, object component %q", o.Kind, o.Metadata.Name, got, want)
		}
	}
}

// podsSelectedBy lists the workloads whose pod templates the selector matches.
func podsSelectedBy(t *testing.T, m *Manifests, selector map[string]string) []string {
	var out []string
	for _, o := range m.Workloads() {
		if matches(selector, workload(t, o).Template.Metadata.Labels) {
			out = append(out, o.Kind+"/"+o.Metadata.Name)
		}
	}
	return out
}

// TestSelectors checks that every workload's selector matches its own pod
// template, and that each Service and PodDisruptionBudget selects exactly one
// workload, through ports that container declares.
func TestSelectors(t *testing.T) {
	m := render(t, withTargetDir)
	for _, o := range m.Workloads() {
		w := workload(t, o)
		if len(w.Selector.MatchExpressions) > 0 {
			t.Errorf("%s/%s: matchExpressions are not checked here; use matchLabels", o.Kind, o.Metadata.Name)
		}
		if !matches(w.Selector.MatchLabels, w.Template.Metadata.Labels) {
			t.Errorf("%s/%s: selector %v does not match template labels %v", o.Kind, o.Metadata.Name, w.Selector.MatchLabels, w.Template.Metadata.Labels)
		}
		for _, other := range m.Workloads() {
			if other.Metadata.Name == o.Metadata.Name && other.Kind == o.Kind {
				continue
			}
			if matches(w.Selector.MatchLabels, workload(t, other).Template.Metadata.Labels) {
				t.Errorf("%s/%s: selector also matches the pods of %s/%s", o.Kind, o.Metadata.Name, other.Kind, other.Metadata.Name)
			}
		}
	}
	wantService := map[string]string{
		"zk": "StatefulSet/zk", "zk-hs": "StatefulSet/zk", "master": "Deployment/master", "target": "Deployment/target",
	}
	for _, o := range m.OfKind("Service") {
		s := service(t, o)
		got := podsSelectedBy(t, m, s.Selector)
		if want := wantService[o.Metadata.Name]; len(got) != 1 || got[0] != want {
			t.Errorf("Service/%s selects %v, want [%s]", o.Metadata.Name, got, want)
			continue
		}
		kind, name, _ := strings.Cut(got[0], "/")
		c := workload(t, m.Find(t, kind, name)).Template.Spec.Containers[0]
		for _, p := range s.Ports {
			if _, ok := containerPort(c, p.TargetPort); !ok {
				t.Errorf("Service/%s port %s: targetPort %q is not a port of container %s", o.Metadata.Name, p.Name, p.TargetPort, c.Name)
			}
		}
	}
	for _, o := range m.OfKind("PodDisruptionBudget") {
		var p PDBSpec
		decodeSpec(t, o, &p)
		if got := podsSelectedBy(t, m, p.Selector.MatchLabels); len(got) != 1 {
			t.Errorf("PodDisruptionBudget/%s selects %v, want exactly one workload", o.Metadata.Name, got)
		}
	}
}

// TestPodSecurity checks the restricted Pod Security Standard's fields (the
// API server's PodSecurity admission checks the same in make k8s-check),
// resource requests and limits, and that no pod gets an API token.
func TestPodSecurity(t *testing.T) {
	m := render(t, withTargetDir)
	accounts := map[string]bool{}
	for _, o := range m.OfKind("ServiceAccount") {
		accounts[o.Metadata.Name] = true
	}
	for _, o := range m.Workloads() {
		name := o.Kind + "/" + o.Metadata.Name
		p := workload(t, o).Template.Spec
		if !accounts[p.ServiceAccountName] {
			t.Errorf("%s: serviceAccountName %q is not a rendered ServiceAccount", name, p.ServiceAccountName)
		}
		if p.AutomountServiceAccountToken == nil || *p.AutomountServiceAccountToken {
			t.Errorf("%s: automountServiceAccountToken should be false (Stampede never calls the API)", name)
		}
		if p.SecurityContext.RunAsNonRoot == nil || !*p.SecurityContext.RunAsNonRoot {
			t.Errorf("%s: pod securityContext.runAsNonRoot should be true", name)
		}
		if u := p.SecurityContext.RunAsUser; u == nil || *u == 0 {
			t.Errorf("%s: pod securityContext.runAsUser should be a non-zero uid", name)
		}
		if sp := p.SecurityContext.SeccompProfile; sp == nil || sp.Type != "RuntimeDefault" {
			t.Errorf("%s: pod seccompProfile should be RuntimeDefault", name)
		}
		for _, c := range append(slices.Clone(p.InitContainers), p.Containers...) {
			checkContainerSecurity(t, name+" container "+c.Name, c)
		}
	}
}

func checkContainerSecurity(t *testing.T, where string, c Container) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil {
		t.Errorf("%s: no securityContext", where)
		return
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s: runAsNonRoot should be true", where)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: readOnlyRootFilesystem should be true", where)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation should be false", where)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Errorf("%s: privileged", where)
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("%s: capabilities should drop [ALL] and add none, got %+v", where, sc.Capabilities)
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" {
			t.Errorf("%s: no %s request", where, r)
		}
		if c.Resources.Limits[r] == "" {
			t.Errorf("%s: no %s limit", where, r)
		}
	}
	if c.ReadinessProbe == nil || c.LivenessProbe == nil {
		t.Errorf("%s: readiness and liveness probes are required", where)
	}
}

// TestReplicasAndTermination pins the documented defaults.
func TestReplicasAndTermination(t *testing.T) {
	m := render(t, withTargetDir)
	for _, tc := range []struct {
		kind, name   string
		replicas     int
		minGraceSecs int
	}{
		{"StatefulSet", "zk", 3, 10},
		{"Deployment", "master", 2, 10},
		// the worker stops its load and publishes its final report on SIGTERM
		{"Deployment", "worker", 3, 30},
		{"Deployment", "target", 1, 5},
	} {
		w := workload(t, m.Find(t, tc.kind, tc.name))
		if w.Replicas == nil || *w.Replicas != tc.replicas {
			t.Errorf("%s/%s replicas = %v, want %d", tc.kind, tc.name, fmtPtr(w.Replicas), tc.replicas)
		}
		g := w.Template.Spec.TerminationGracePeriodSeconds
		if g == nil || *g < tc.minGraceSecs {
			t.Errorf("%s/%s terminationGracePeriodSeconds = %v, want >= %d", tc.kind, tc.name, fmtPtr(g), tc.minGraceSecs)
		}
	}
}

func fmtPtr(p *int) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

// TestDocsOverlayExample renders the "deploy your own build" overlay from
// docs/kubernetes.md, placed as the doc says (next to the repository), and
// checks it swaps all three Stampede images.
func TestDocsOverlayExample(t *testing.T) {
	root := repoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "kubernetes.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "`my-stampede/kustomization.yaml`")
	if !ok {
		t.Fatal("docs/kubernetes.md: no my-stampede/kustomization.yaml example")
	}
	_, block, _ := strings.Cut(after, "```yaml\n")
	block, _, _ = strings.Cut(block, "```")
	dir := t.TempDir()
	if err := os.Symlink(root, filepath.Join(dir, "stampede")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "my-stampede"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "my-stampede", "kustomization.yaml"), []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("kubectl", "kustomize", filepath.Join(dir, "my-stampede")).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize of the docs example: %v\n%s", err, out)
	}
	objs, err := decodeAll(out)
	if err != nil {
		t.Fatal(err)
	}
	var images []string
	for _, o := range objs {
		if o.Kind == "Deployment" {
			images = append(images, workload(t, o).Template.Spec.Containers[0].Image)
		}
	}
	sort.Strings(images)
	want := []string{
		"registry.example.com/you/stampede-master:0.1.0",
		"registry.example.com/you/stampede-target:0.1.0",
		"registry.example.com/you/stampede-worker:0.1.0",
	}
	if !slices.Equal(images, want) {
		t.Errorf("docs overlay example images = %v, want %v", images, want)
	}
}
