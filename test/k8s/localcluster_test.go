package k8s_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/zktest"
)

// localCluster plays kubelet and kube-proxy for the rendered manifests on
// one host: every replica of every Stampede Deployment runs as a local
// process with its container's command, args and environment; each pod
// gets its own loopback ports in place of its container ports; each Service
// is a round-robin TCP proxy to the pods it selects; ZooKeeper is a real
// local server in place of the StatefulSet. Service DNS names and pod ports
// in the environment and args are rewritten to those loopback addresses.
type localCluster struct {
	t        *testing.T
	m        *Manifests
	zkAddr   string
	services map[string]*serviceProxy // "name:port" -> proxy
	pods     []*localPod
	dir      string
}

// localPod is one running replica.
type localPod struct {
	name, workload, target string
	container              Container
	ports                  map[int]int       // container port -> loopback port
	mounts                 map[string]string // Secret mountPath -> local directory
	grace                  time.Duration
	cmd                    *exec.Cmd
	log                    string
	exited                 chan struct{}
	waitErr                error
}

// serviceProxy forwards each connection to the next of its backends.
type serviceProxy struct {
	ln       net.Listener
	mu       sync.Mutex
	backends []string
	next     int
}

func (p *serviceProxy) addr() string { return p.ln.Addr().String() }

func (p *serviceProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if len(p.backends) == 0 {
			p.mu.Unlock()
			c.Close()
			continue
		}
		b := p.backends[p.next%len(p.backends)]
		p.next++
		p.mu.Unlock()
		go pipe(c, b)
	}
}

func pipe(c net.Conn, backend string) {
	defer c.Close()
	u, err := net.DialTimeout("tcp", backend, 5*time.Second)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{}, 2)
	// Copy one direction, then half-close it, like kube-proxy does; a copy
	// error means one side went away, which ends that direction either way.
	oneWay := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.(*net.TCPConn).CloseWrite()
		done <- struct{}{}
	}
	go oneWay(u, c)
	go oneWay(c, u)
	<-done
	<-done
}

// newLocalCluster plans pods and Services and starts the Service proxies.
func newLocalCluster(t *testing.T, m *Manifests, zkAddr string) *localCluster {
	lc := &localCluster{t: t, m: m, zkAddr: zkAddr, services: map[string]*serviceProxy{}, dir: t.TempDir()}
	t.Cleanup(func() { // runs before the TempDir is removed
		if t.Failed() {
			for _, p := range lc.pods {
				t.Logf("--- end of %s's log:\n%s", p.name, p.logTail())
			}
		}
	})
	for _, sc := range stampedeContainers(t, m) {
		grace := 30 * time.Second
		if g := sc.tmpl.Spec.TerminationGracePeriodSeconds; g != nil {
			grace = time.Duration(*g) * time.Second
		}
		for i := 0; i < sc.replicas; i++ {
			pod := &localPod{
				// like a Deployment's pod: <name>-<ReplicaSet hash>-<suffix>
				name:     fmt.Sprintf("%s-6c9f7d8b5-r%04d", sc.workload, i),
				workload: sc.workload, target: sc.target, container: sc.c, ports: map[int]int{},
				grace: grace, exited: make(chan struct{}),
			}
			for _, p := range sc.c.Ports {
				pod.ports[p.ContainerPort] = zktest.FreePort(t)
			}
			lc.pods = append(lc.pods, pod)
		}
	}
	for _, o := range m.OfKind("Service") {
		s := service(t, o)
		for _, p := range s.Ports {
			key := o.Metadata.Name + ":" + strconv.Itoa(p.Port)
			if podsSelectedBy(t, m, s.Selector)[0] == "StatefulSet/zk" {
				continue // rewritten straight to the local ZooKeeper
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			proxy := &serviceProxy{ln: ln}
			for _, pod := range lc.pods {
				if !matches(s.Selector, lc.template(pod).Metadata.Labels) {
					continue
				}
				cp, ok := containerPort(pod.container, p.TargetPort)
				if !ok {
					t.Fatalf("Service %s: targetPort %s not in pod %s", key, p.TargetPort, pod.name)
				}
				proxy.backends = append(proxy.backends, fmt.Sprintf("127.0.0.1:%d", pod.ports[cp]))
			}
			go proxy.serve()
			lc.services[key] = proxy
		}
	}
	return lc
}

func (lc *localCluster) template(p *localPod) PodTemplate {
	return workload(lc.t, lc.m.Find(lc.t, "Deployment", p.workload)).Template
}

// serviceAddr is the loopback address standing for a Service port.
func (lc *localCluster) serviceAddr(name string, port int) string {
	key := name + ":" + strconv.Itoa(port)
	if p, ok := lc.services[key]; ok {
		return p.addr()
	}
	lc.t.Fatalf("no Service %s", key)
	return ""
}

// rewrite maps a pod's own ports (":8080", "127.0.0.1:8080" after $(POD_IP))
// and Service DNS names ("zk:2181", "target.stampede.svc:8081") to loopback.
func (lc *localCluster) rewrite(pod *localPod, s string) string {
	for cp, hp := range pod.ports {
		re := regexp.MustCompile(`(^|[^\w.:-])(?:127\.0\.0\.1|0\.0\.0\.0)?:` + strconv.Itoa(cp) + `\b`)
		s = re.ReplaceAllString(s, "${1}127.0.0.1:"+strconv.Itoa(hp))
	}
	for mountPath, dir := range pod.mounts {
		if s == mountPath || strings.HasPrefix(s, mountPath+"/") {
			s = dir + s[len(mountPath):]
		}
	}
	return lc.rewriteServices(s)
}

func (lc *localCluster) rewriteServices(s string) string {
	for _, o := range lc.m.OfKind("Service") {
		for _, p := range service(lc.t, o).Ports {
			to := lc.zkAddr
			if proxy, ok := lc.services[o.Metadata.Name+":"+strconv.Itoa(p.Port)]; ok {
				to = proxy.addr()
			}
			re := regexp.MustCompile(`(^|[^\w.-])` + regexp.QuoteMeta(o.Metadata.Name) +
				`(?:\.` + namespace + `(?:\.svc(?:\.cluster\.local)?)?)?:` + strconv.Itoa(p.Port) + `\b`)
			s = re.ReplaceAllString(s, "${1}"+to)
		}
	}
	return s
}

// start launches every pod's process, as the kubelet would start containers.
func (lc *localCluster) start(im *Images) {
	for _, pod := range lc.pods {
		pod.mounts = lc.mountSecrets(pod)
		env := resolveEnv(lc.t, lc.m, pod.container, Pod{Name: pod.name, IP: "127.0.0.1"})
		// what the image and the runtime add: the host name and PATH
		vars := []string{"HOSTNAME=" + pod.name, "PATH=/usr/local/bin:/usr/bin:/bin"}
		for _, e := range env {
			vars = append(vars, e.Name+"="+lc.rewrite(pod, e.Value))
		}
		lookup := func(n string) (string, bool) { return envValue(env, n) }
		var args []string
		for _, a := range pod.container.Args {
			args = append(args, lc.rewrite(pod, expand(a, lookup)))
		}
		if len(pod.container.Command) > 1 {
			args = append(pod.container.Command[1:], args...)
		}
		pod.log = filepath.Join(lc.dir, pod.name+".log")
		out, err := os.Create(pod.log)
		if err != nil {
			lc.t.Fatal(err)
		}
		pod.cmd = exec.Command(im.Binary[pod.target], args...)
		pod.cmd.Env = vars
		pod.cmd.Stdout, pod.cmd.Stderr = out, out
		if err := pod.cmd.Start(); err != nil {
			lc.t.Fatalf("start %s: %v", pod.name, err)
		}
		lc.t.Logf("started %s (pid %d): %s %q env %q", pod.name, pod.cmd.Process.Pid, pod.target, args, vars)
		go func(p *localPod, f *os.File) {
			p.waitErr = p.cmd.Wait()
			f.Close()
			close(p.exited)
		}(pod, out)
	}
	lc.t.Cleanup(lc.killAll)
}

// killAll stops whatever is still running, by pid.
func (lc *localCluster) killAll() {
	for _, p := range lc.pods {
		select {
		case <-p.exited:
		default:
			if err := p.cmd.Process.Kill(); err != nil {
				lc.t.Logf("kill %s (pid %d): %v", p.name, p.cmd.Process.Pid, err)
			}
			<-p.exited
		}
	}
}

// logTail is the end of a pod's output, for failure messages.
func (p *localPod) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// probe GETs one of the pod's httpGet probes.
func (p *localPod) probe(pr *Probe) error {
	cp, ok := containerPort(p.container, pr.HTTPGet.Port)
	if !ok {
		return fmt.Errorf("probe port %s is not a container port", pr.HTTPGet.Port)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", p.ports[cp], pr.HTTPGet.Path))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("GET %s: %s", pr.HTTPGet.Path, resp.Status)
	}
	return nil
}

// waitReady polls every pod's readiness probe, then checks its liveness
// probe, failing on a pod that exits or stays unready for timeout.
func (lc *localCluster) waitReady(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for _, p := range lc.pods {
		for {
			err := p.probe(p.container.ReadinessProbe)
			if err == nil {
				break
			}
			select {
			case <-p.exited:
				lc.t.Fatalf("%s exited before ready (%v):\n%s", p.name, p.waitErr, p.logTail())
			default:
			}
			if time.Now().After(deadline) {
				lc.t.Fatalf("%s not ready after %v: %v\n%s", p.name, timeout, err, p.logTail())
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err := p.probe(p.container.LivenessProbe); err != nil {
			lc.t.Errorf("%s: liveness probe fails while ready: %v", p.name, err)
		}
	}
}

// terminate sends SIGTERM to the pods of one workload, as the kubelet does on
// delete, and checks they exit cleanly within terminationGracePeriodSeconds.
// Pods that already exited are skipped.
func (lc *localCluster) terminate(workloadName string) {
	lc.stop(func(p *localPod) bool { return p.workload == workloadName })
}

// terminatePod does the same for one pod.
func (lc *localCluster) terminatePod(name string) {
	lc.stop(func(p *localPod) bool { return p.name == name })
}

func (lc *localCluster) stop(which func(*localPod) bool) {
	var ps []*localPod
	for _, p := range lc.pods {
		select {
		case <-p.exited:
			continue
		default:
		}
		if which(p) {
			ps = append(ps, p)
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				lc.t.Errorf("SIGTERM %s (pid %d): %v", p.name, p.cmd.Process.Pid, err)
			}
		}
	}
	for _, p := range ps {
		select {
		case <-p.exited:
			var ee *exec.ExitError
			if errors.As(p.waitErr, &ee) {
				lc.t.Errorf("%s exited with %v after SIGTERM:\n%s", p.name, p.waitErr, p.logTail())
			}
		case <-time.After(p.grace):
			lc.t.Errorf("%s still running %v after SIGTERM (terminationGracePeriodSeconds): the kubelet would SIGKILL it\n%s", p.name, p.grace, p.logTail())
		}
	}
}

// podNames lists the pod names of one workload, sorted.
func (lc *localCluster) podNames(workloadName string) []string {
	var out []string
	for _, p := range lc.pods {
		if p.workload == workloadName {
			out = append(out, p.name)
		}
	}
	sort.Strings(out)
	return out
}

// podURL is the loopback URL of a pod with one container port.
func (lc *localCluster) podURL(p *localPod) string {
	for _, hp := range p.ports {
		return "http://127.0.0.1:" + strconv.Itoa(hp)
	}
	return ""
}
