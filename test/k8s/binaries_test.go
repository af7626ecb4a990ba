package k8s_test

import (
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Flags is what a binary's --help says it reads (pkg/config prints every
// flag as `--name (env STAMPEDE_NAME, default "...")`).
type Flags struct {
	Env      []string          // environment variables read
	Defaults map[string]string // env var -> default value
}

var helpLine = regexp.MustCompile(`(?m)^\s*--([\w-]+) \(env (\w+), default "(.*)"\)`)

// binaryFlags runs `binary --help` and parses every flag line.
func binaryFlags(t *testing.T, binary string) Flags {
	t.Helper()
	out, _ := exec.Command(binary, "--help").CombinedOutput() // exit status 0 or 2: both print usage
	if !strings.Contains(string(out), "Usage of") {
		t.Fatalf("%s --help printed no usage:\n%s", binary, out)
	}
	f := Flags{Defaults: map[string]string{}}
	for _, m := range helpLine.FindAllStringSubmatch(string(out), -1) {
		f.Env = append(f.Env, m[2])
		f.Defaults[m[2]] = m[3]
	}
	if len(f.Env) == 0 {
		t.Fatalf("%s --help lists no flag with its env var:\n%s", binary, out)
	}
	return f
}

// stampedeContainer is one Stampede container of a workload, with the image
// target it runs.
type stampedeContainer struct {
	workload string
	target   string // Dockerfile target: master, worker, target
	c        Container
	replicas int
	tmpl     PodTemplate
}

var imageRef = regexp.MustCompile(`/stampede-(\w+):`)

// stampedeContainers lists the containers that run Stampede images.
func stampedeContainers(t *testing.T, m *Manifests) []stampedeContainer {
	t.Helper()
	var out []stampedeContainer
	for _, o := range m.OfKind("Deployment") {
		w := workload(t, o)
		for _, c := range w.Template.Spec.Containers {
			sub := imageRef.FindStringSubmatch(c.Image)
			if sub == nil || !slices.Contains(imageTargets, sub[1]) {
				t.Fatalf("Deployment/%s container %s: image %q is not a Stampede image", o.Metadata.Name, c.Name, c.Image)
			}
			out = append(out, stampedeContainer{workload: o.Metadata.Name, target: sub[1], c: c, replicas: *w.Replicas, tmpl: w.Template})
		}
	}
	return out
}

// TestEnvMatchesBinaries checks that every environment variable a Stampede
// container sets is one its binary reads (or only feeds another variable
// through $(NAME)), and that the container runs the image's entrypoint.
func TestEnvMatchesBinaries(t *testing.T) {
	m := render(t, withTargetDir)
	im := buildImages(t)
	for _, sc := range stampedeContainers(t, m) {
		flags := binaryFlags(t, im.Binary[sc.target])
		if len(sc.c.Command) > 0 && sc.c.Command[0] != im.Entrypoint[sc.target] {
			t.Errorf("%s: command %q does not run the image's binary %s", sc.workload, sc.c.Command, im.Entrypoint[sc.target])
		}
		env := resolveEnv(t, m, sc.c, Pod{Name: sc.workload + "-0", IP: "10.0.0.7"})
		if len(env) == 0 {
			t.Errorf("%s: container sets no environment", sc.workload)
		}
		for _, e := range env {
			switch {
			case slices.Contains(flags.Env, e.Name):
			case e.Plumbing:
				if strings.HasPrefix(e.Name, "STAMPEDE_") {
					t.Errorf("%s: %s looks like a Stampede setting but %s does not read it", sc.workload, e.Name, sc.target)
				}
			default:
				t.Errorf("%s: sets %s=%q, which %s does not read (it reads %v)", sc.workload, e.Name, e.Value, sc.target, flags.Env)
			}
		}
		for _, e := range env {
			if strings.Contains(e.Value, "$(") {
				t.Errorf("%s: %s=%q has an unresolved reference", sc.workload, e.Name, e.Value)
			}
		}
	}
}

// listenPort is the port a container's binary listens on: STAMPEDE_LISTEN
// from the manifest, else the binary's default.
func listenPort(t *testing.T, env []EnvEntry, flags Flags) int {
	t.Helper()
	addr, ok := envValue(env, "STAMPEDE_LISTEN")
	if !ok {
		addr = flags.Defaults["STAMPEDE_LISTEN"]
	}
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("listen address %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("listen address %q: %v", addr, err)
	}
	return n
}

// TestProbesAndPortsMatchBinaries checks that each probe and the container
// port point at the port the binary listens on, and that the probe paths are
// the binaries' health endpoints (the wiring test GETs them for real).
func TestProbesAndPortsMatchBinaries(t *testing.T) {
	m := render(t, withTargetDir)
	im := buildImages(t)
	for _, sc := range stampedeContainers(t, m) {
		flags := binaryFlags(t, im.Binary[sc.target])
		env := resolveEnv(t, m, sc.c, Pod{Name: sc.workload + "-0", IP: "10.0.0.7"})
		listen := listenPort(t, env, flags)
		if len(sc.c.Ports) != 1 || sc.c.Ports[0].ContainerPort != listen {
			t.Errorf("%s: container ports %+v, want exactly the listen port %d", sc.workload, sc.c.Ports, listen)
		}
		for _, p := range []struct {
			kind, path string
			probe      *Probe
		}{{"readiness", "/readyz", sc.c.ReadinessProbe}, {"liveness", "/healthz", sc.c.LivenessProbe}} {
			if p.probe == nil || p.probe.HTTPGet == nil {
				t.Errorf("%s: %s probe is not an httpGet", sc.workload, p.kind)
				continue
			}
			port, ok := containerPort(sc.c, p.probe.HTTPGet.Port)
			if !ok || port != listen {
				t.Errorf("%s: %s probe port %q = %d, binary listens on %d", sc.workload, p.kind, p.probe.HTTPGet.Port, port, listen)
			}
			if p.probe.HTTPGet.Path != p.path {
				t.Errorf("%s: %s probe path %q, want %s", sc.workload, p.kind, p.probe.HTTPGet.Path, p.path)
			}
		}
	}
}

// TestZKConnectString checks that every STAMPEDE_ZK names the ZooKeeper
// client Service (bare or qualified with the namespace) on its client port,
// and that the Service reaches the StatefulSet's client port from zoo.cfg.
func TestZKConnectString(t *testing.T) {
	m := render(t, withTargetDir)
	z := loadZK(t)
	clientPort, _ := strconv.Atoi(z.cfg["clientPort"])
	checked := 0
	for _, sc := range stampedeContainers(t, m) {
		env := resolveEnv(t, m, sc.c, Pod{Name: sc.workload + "-0", IP: "10.0.0.7"})
		conn, ok := envValue(env, "STAMPEDE_ZK")
		if !ok {
			if sc.target != "target" {
				t.Errorf("%s: STAMPEDE_ZK not set", sc.workload)
			}
			continue
		}
		checked++
		for _, hp := range strings.Split(conn, ",") {
			host, port, err := net.SplitHostPort(hp)
			if err != nil {
				t.Errorf("%s: STAMPEDE_ZK %q: %v", sc.workload, conn, err)
				continue
			}
			name, domain, _ := strings.Cut(host, ".")
			if domain != "" && !slices.Contains([]string{namespace, namespace + ".svc", namespace + ".svc.cluster.local"}, domain) {
				t.Errorf("%s: STAMPEDE_ZK host %q is not a Service of namespace %s", sc.workload, host, namespace)
			}
			svc := service(t, m.Find(t, "Service", name))
			if got := podsSelectedBy(t, m, svc.Selector); !slices.Equal(got, []string{"StatefulSet/zk"}) {
				t.Errorf("%s: STAMPEDE_ZK Service %s selects %v, want the ZooKeeper StatefulSet", sc.workload, name, got)
			}
			found := false
			for _, p := range svc.Ports {
				if strconv.Itoa(p.Port) != port {
					continue
				}
				found = true
				if tp, ok := containerPort(z.container, p.TargetPort); !ok || tp != clientPort {
					t.Errorf("%s: Service %s port %s reaches container port %d, ZooKeeper's clientPort is %d", sc.workload, name, port, tp, clientPort)
				}
			}
			if !found {
				t.Errorf("%s: STAMPEDE_ZK port %s is not a port of Service %s", sc.workload, port, name)
			}
		}
	}
	if checked < 2 {
		t.Errorf("STAMPEDE_ZK checked on %d containers, want master and worker", checked)
	}
}
