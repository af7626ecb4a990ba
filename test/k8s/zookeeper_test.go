package k8s_test

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/zktest"
)

// zkManifest is the rendered ZooKeeper StatefulSet with its zoo.cfg.
type zkManifest struct {
	set       Workload
	container Container
	cfg       map[string]string // zoo.cfg key=value
	servers   map[int]string    // server.N -> value
}

func loadZK(t *testing.T) zkManifest {
	t.Helper()
	m := render(t, baseDir)
	set := workload(t, m.Find(t, "StatefulSet", "zk"))
	z := zkManifest{set: set, container: set.Template.Spec.Containers[0], cfg: map[string]string{}, servers: map[int]string{}}
	var cmName string
	for _, v := range set.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			cmName = v.ConfigMap.Name
		}
	}
	text, ok := m.Find(t, "ConfigMap", cmName).Data["zoo.cfg"]
	if !ok {
		t.Fatalf("ConfigMap %s has no zoo.cfg", cmName)
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("zoo.cfg line %q is not key=value", line)
		}
		if n, found := strings.CutPrefix(k, "server."); found {
			id, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("zoo.cfg %s: bad server id", k)
			}
			z.servers[id] = v
		}
		z.cfg[k] = v
	}
	return z
}

func (z zkManifest) port(t *testing.T, name string) int {
	t.Helper()
	p, ok := containerPort(z.container, Port(name))
	if !ok {
		t.Fatalf("zookeeper container has no port %q", name)
	}
	return p
}

// TestZooKeeperEnsemble checks the StatefulSet against its zoo.cfg: one
// server line per replica naming the pod's stable DNS name through the
// headless Service, matching ports, persistent data, autopurge, a PDB that
// keeps a quorum.
func TestZooKeeperEnsemble(t *testing.T) {
	m := render(t, baseDir)
	z := loadZK(t)
	replicas := *z.set.Replicas
	if replicas != 3 {
		t.Errorf("zk replicas = %d, want 3", replicas)
	}
	if z.set.PodManagementPolicy != "Parallel" {
		t.Errorf("podManagementPolicy = %q, want Parallel: a member is ready only once a quorum runs, so ordered start never gets past zk-0", z.set.PodManagementPolicy)
	}
	hs := service(t, m.Find(t, "Service", z.set.ServiceName))
	if hs.ClusterIP != "None" || !hs.PublishNotReadyAddresses {
		t.Errorf("Service %s: clusterIP %q publishNotReadyAddresses %v, want None and true (members must resolve each other before they are ready)", z.set.ServiceName, hs.ClusterIP, hs.PublishNotReadyAddresses)
	}
	if len(z.servers) != replicas {
		t.Errorf("zoo.cfg has %d server lines for %d replicas", len(z.servers), replicas)
	}
	quorum, election := z.port(t, "quorum"), z.port(t, "election")
	for i := 0; i < replicas; i++ {
		want := fmt.Sprintf("zk-%d.%s:%d:%d", i, z.set.ServiceName, quorum, election)
		if got := z.servers[i+1]; got != want {
			t.Errorf("zoo.cfg server.%d = %q, want %q", i+1, got, want)
		}
	}
	if got, want := z.cfg["clientPort"], strconv.Itoa(z.port(t, "client")); got != want {
		t.Errorf("zoo.cfg clientPort = %q, container port client = %s", got, want)
	}
	if n, _ := strconv.Atoi(z.cfg["autopurge.purgeInterval"]); n < 1 {
		t.Errorf("autopurge.purgeInterval = %q, want >= 1 (hours)", z.cfg["autopurge.purgeInterval"])
	}
	if n, _ := strconv.Atoi(z.cfg["autopurge.snapRetainCount"]); n < 3 {
		t.Errorf("autopurge.snapRetainCount = %q, want >= 3", z.cfg["autopurge.snapRetainCount"])
	}
	for _, cmd := range []string{"srvr", "ruok"} {
		if !strings.Contains(","+z.cfg["4lw.commands.whitelist"]+",", ","+cmd+",") {
			t.Errorf("4lw.commands.whitelist %q lacks %s, which a probe sends", z.cfg["4lw.commands.whitelist"], cmd)
		}
	}
	if len(z.set.VolumeClaimTemplates) != 1 || z.set.VolumeClaimTemplates[0].Metadata.Name != "data" {
		t.Errorf("volumeClaimTemplates = %+v, want one named data", z.set.VolumeClaimTemplates)
	}
	if d := z.cfg["dataDir"]; d != "/data" || !strings.HasPrefix(z.cfg["dataLogDir"], "/data/") {
		t.Errorf("dataDir %q, dataLogDir %q: both must be on the persistent volume at /data", d, z.cfg["dataLogDir"])
	}
	if _, tag, _ := strings.Cut(z.container.Image, ":"); tag == "" || tag != z.set.Template.Metadata.Labels["app.kubernetes.io/version"] {
		t.Errorf("zookeeper image %q: pin a tag and keep the app.kubernetes.io/version label (%q) equal to it",
			z.container.Image, z.set.Template.Metadata.Labels["app.kubernetes.io/version"])
	}
	var pdb PDBSpec
	decodeSpec(t, m.Find(t, "PodDisruptionBudget", "zk"), &pdb)
	up := replicas
	switch {
	case pdb.MaxUnavailable != nil:
		n, _ := strconv.Atoi(string(*pdb.MaxUnavailable))
		up = replicas - n
	case pdb.MinAvailable != nil:
		up, _ = strconv.Atoi(string(*pdb.MinAvailable))
	}
	if q := replicas/2 + 1; up < q || up == replicas {
		t.Errorf("PDB keeps %d of %d members up; want a quorum (%d) and room for one disruption", up, replicas, q)
	}
}

// TestZooKeeperMyID runs the container's start script with each pod's host
// name, up to the point where it hands over to the image's entrypoint, and
// checks myid is the server.N whose line names that pod.
func TestZooKeeperMyID(t *testing.T) {
	z := loadZK(t)
	cmd := z.container.Command
	if len(cmd) != 3 || cmd[0] != "bash" || cmd[1] != "-c" {
		t.Fatalf("zookeeper command = %q, want [bash -c SCRIPT]", cmd)
	}
	const handover = "exec /docker-entrypoint.sh zkServer.sh start-foreground"
	if !strings.Contains(cmd[2], handover) {
		t.Fatalf("start script does not end in %q:\n%s", handover, cmd[2])
	}
	script := strings.Replace(cmd[2], handover, `printf '%s' "$ZOO_MY_ID"`, 1)
	for i := 0; i < *z.set.Replicas; i++ {
		pod := fmt.Sprintf("zk-%d", i)
		c := exec.Command("bash", "-c", script)
		c.Env = []string{"HOSTNAME=" + pod, "PATH=/usr/bin:/bin"}
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("start script as %s: %v\n%s", pod, err, out)
		}
		id, err := strconv.Atoi(string(out))
		if err != nil {
			t.Fatalf("start script as %s: ZOO_MY_ID = %q", pod, out)
		}
		if line := z.servers[id]; !strings.HasPrefix(line, pod+"."+z.set.ServiceName+":") {
			t.Errorf("pod %s gets myid %d, but server.%d = %q", pod, id, id, line)
		}
	}
}

// probeScript returns a probe's bash script with the client port replaced by
// port, so it can run against a local server.
func probeScript(t *testing.T, p *Probe, clientPort, port int) string {
	t.Helper()
	if p == nil || p.Exec == nil || len(p.Exec.Command) != 3 || p.Exec.Command[0] != "bash" {
		t.Fatalf("probe %+v: want exec [bash -c SCRIPT]", p)
	}
	re := regexp.MustCompile(`/dev/tcp/127\.0\.0\.1/` + strconv.Itoa(clientPort) + `\b`)
	s := p.Exec.Command[2]
	if !re.MatchString(s) {
		t.Fatalf("probe script does not connect to 127.0.0.1:%d:\n%s", clientPort, s)
	}
	return re.ReplaceAllString(s, "/dev/tcp/127.0.0.1/"+strconv.Itoa(port))
}

func runProbe(script string) error {
	out, err := exec.Command("bash", "-c", script).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// TestZooKeeperProbes runs the readiness and liveness probes against a real
// three-node ensemble: ready while serving, and after two members stop the
// last one is alive but not ready (it answers imok, yet serves nothing).
func TestZooKeeperProbes(t *testing.T) {
	z := loadZK(t)
	client := z.port(t, "client")
	e := zktest.StartEnsemble(t)
	last := e.Servers[2]
	ready := probeScript(t, z.container.ReadinessProbe, client, last.Port)
	alive := probeScript(t, z.container.LivenessProbe, client, last.Port)
	for _, s := range e.Servers {
		if err := runProbe(probeScript(t, z.container.ReadinessProbe, client, s.Port)); err != nil {
			t.Errorf("readiness probe of serving member %s (mode %s) failed: %v", s.Addr(), s.Mode(), err)
		}
	}
	if err := runProbe(alive); err != nil {
		t.Errorf("liveness probe of a serving member failed: %v", err)
	}
	e.Servers[0].Stop()
	e.Servers[1].Stop()
	deadline := time.Now().Add(60 * time.Second)
	for runProbe(ready) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("readiness probe still passes 60s after quorum loss (srvr: %q)", zktest.FourLetter(last.Addr(), "srvr"))
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err := runProbe(alive); err != nil {
		t.Errorf("liveness probe of a member waiting for quorum failed (it would be restarted): %v", err)
	}
	// Nothing listening: both fail.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if runProbe(probeScript(t, z.container.ReadinessProbe, client, port)) == nil {
		t.Errorf("readiness probe passes with nothing on port %d", port)
	}
}
