// Package zktest starts real Apache ZooKeeper servers (Debian's zookeeper
// package) for tests: a standalone server or a three-node ensemble on free
// loopback ports, with data in the test's temp dir, stopped by PID at
// cleanup. It never substitutes a fake: when Java or ZooKeeper is missing
// the test fails with the command that installs it (under -short it skips).
package zktest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Jar is Debian's ZooKeeper server jar.
const Jar = "/usr/share/java/zookeeper.jar"

// Classpath runs the server with log4j console logging.
const Classpath = "/etc/zookeeper/conf:" + Jar + ":/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"

// Options tune a server.
type Options struct {
	// TickTime in ms; sessions may last 2..20 ticks. Default 500 (1-10 s
	// sessions) so that expiry tests are quick.
	TickTime int
	// Production runs the JVM as a served ZooKeeper runs: the optimizing
	// compiler, the JVM's default collector and ZooKeeper's default heap of
	// 1000 MB, for measurements (make scale). Without it the server starts
	// quickly for tests: a 256 MB heap, the serial collector and the quick
	// first-tier compiler only, which cost throughput a measurement must
	// not pay.
	Production bool
	// FlightRecording, if set, is the file the JVM writes a Java Flight
	// Recorder profile of the whole run to when the server stops (SIGTERM);
	// read it with `jfr print --events jdk.ExecutionSample FILE` or `jfr
	// summary FILE` (docs/scale.md, "Profiling").
	FlightRecording string
}

// jvmFlags is the JVM's options for a server with o.
func jvmFlags(o Options) []string {
	var rec []string
	if o.FlightRecording != "" {
		rec = []string{"-XX:StartFlightRecording=settings=profile,dumponexit=true,filename=" + o.FlightRecording}
	}
	if o.Production {
		return append([]string{"-Xmx1000m"}, rec...)
	}
	return append(rec, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
}

// Server is one running ZooKeeper process.
type Server struct {
	Port     int
	Dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
	cfg      string
	t        testing.TB
	tickTime int
	jvm      []string
}

// Pid is the server process's id (0 if it never started).
func (s *Server) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Addr is the client address.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// Available reports whether a real ZooKeeper can be started here, and why not.
func Available() error {
	if _, err := exec.LookPath("java"); err != nil {
		return fmt.Errorf("java not found: apt-get install -y zookeeper (or make deps)")
	}
	if _, err := os.Stat(Jar); err != nil {
		return fmt.Errorf("%s not found: apt-get update && apt-get install -y zookeeper (or make deps)", Jar)
	}
	return nil
}

func require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if testing.Short() {
			t.Skip("real ZooKeeper needed: ", err)
		}
		t.Fatal("real ZooKeeper needed: ", err)
	}
}

// FreePort returns a loopback TCP port that is free right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Standalone starts one server and waits until it serves.
func Standalone(t testing.TB, opts ...Options) *Server {
	t.Helper()
	require(t)
	o := options(opts)
	s := &Server{Port: FreePort(t), Dir: t.TempDir(), t: t, tickTime: o.TickTime, jvm: jvmFlags(o)}
	s.writeConfig(nil, 0)
	s.Start()
	t.Cleanup(s.Stop)
	s.WaitMode("standalone", 60*time.Second)
	return s
}

// Ensemble is three servers forming one ZooKeeper ensemble.
type Ensemble struct{ Servers [3]*Server }

// Connect is the comma-separated client address list.
func (e *Ensemble) Connect() string {
	var a []string
	for _, s := range e.Servers {
		a = append(a, s.Addr())
	}
	return strings.Join(a, ",")
}

// Leader is the server whose mode is leader, or nil.
func (e *Ensemble) Leader() *Server {
	for _, s := range e.Servers {
		if s.Mode() == "leader" {
			return s
		}
	}
	return nil
}

// StartEnsemble starts a three-node ensemble and waits until every node is
// leader or follower.
func StartEnsemble(t testing.TB, opts ...Options) *Ensemble {
	t.Helper()
	require(t)
	o := options(opts)
	var lines []string
	e := &Ensemble{}
	for i := range e.Servers {
		e.Servers[i] = &Server{Port: FreePort(t), Dir: t.TempDir(), t: t, tickTime: o.TickTime, jvm: jvmFlags(o)}
		lines = append(lines, fmt.Sprintf("server.%d=127.0.0.1:%d:%d", i+1, FreePort(t), FreePort(t)))
	}
	for i, s := range e.Servers {
		s.writeConfig(lines, i+1)
		s.Start()
		t.Cleanup(s.Stop)
	}
	for _, s := range e.Servers {
		s.WaitMode("leader|follower", 90*time.Second)
	}
	return e
}

func options(opts []Options) Options {
	o := Options{TickTime: 500}
	if len(opts) > 0 {
		o.Production, o.FlightRecording = opts[0].Production, opts[0].FlightRecording
		if opts[0].TickTime > 0 {
			o.TickTime = opts[0].TickTime
		}
	}
	return o
}

func (s *Server) writeConfig(servers []string, myid int) {
	data := filepath.Join(s.Dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		s.t.Fatal(err)
	}
	cfg := []string{
		fmt.Sprintf("tickTime=%d", s.tickTime),
		"initLimit=10",
		"syncLimit=5",
		"dataDir=" + data,
		"clientPortAddress=127.0.0.1",
		fmt.Sprintf("clientPort=%d", s.Port),
		"maxClientCnxns=0",
		"4lw.commands.whitelist=ruok,srvr,stat,mntr,conf,isro",
		"admin.enableServer=false",
		"forceSync=no", // test servers only: fsync stalls of seconds otherwise
	}
	cfg = append(cfg, servers...)
	if myid > 0 {
		if err := os.WriteFile(filepath.Join(data, "myid"), []byte(fmt.Sprint(myid)), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	s.cfg = filepath.Join(s.Dir, "zoo.cfg")
	if err := os.WriteFile(s.cfg, []byte(strings.Join(cfg, "\n")+"\n"), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// Start launches the server process (again, after Stop or Kill).
func (s *Server) Start() {
	log, err := os.OpenFile(filepath.Join(s.Dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	args := append(slices.Clone(s.jvm), "-cp", Classpath,
		"-Dzookeeper.root.logger=INFO,CONSOLE", "-Dzookeeper.log.dir="+s.Dir,
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", s.cfg)
	cmd := exec.Command("java", args...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = log, log
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) {
		_ = c.Wait()
		log.Close()
		close(done)
	}(cmd, s.exited)
}

// Stop sends SIGTERM and waits (SIGKILL after 10 s). Safe to call twice.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

// Kill sends SIGKILL and waits.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// Mode is the server's mode from the srvr four-letter word ("standalone",
// "leader", "follower"), or "" when it is not serving.
func (s *Server) Mode() string {
	out := FourLetter(s.Addr(), "srvr")
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if m, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

// WaitMode waits until the server's mode matches one of the |-separated
// modes, failing the test after timeout (with the server log's tail).
func (s *Server) WaitMode(modes string, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		m := s.Mode()
		for _, want := range strings.Split(modes, "|") {
			if m == want {
				return
			}
		}
		select {
		case <-s.exited:
			s.t.Fatalf("zookeeper on %s exited; log:\n%s", s.Addr(), s.LogTail(30))
		case <-time.After(250 * time.Millisecond):
		}
	}
	s.t.Fatalf("zookeeper on %s not %s after %v; log:\n%s", s.Addr(), modes, timeout, s.LogTail(30))
}

// LogText returns the server log so far.
func (s *Server) LogText() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
	return string(b)
}

// LogTail returns the last n lines of the server log.
func (s *Server) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(s.LogText(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FourLetter sends a four-letter command and returns the reply ("" on error).
func FourLetter(addr, cmd string) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd)); err != nil {
		return ""
	}
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
