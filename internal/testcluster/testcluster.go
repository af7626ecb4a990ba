// Package testcluster runs a real Stampede cluster for tests: a real
// ZooKeeper (internal/zktest), and the real master, worker and target binaries
// as separate processes on loopback ports, stopped by PID at cleanup.
package testcluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/zktest"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// Binaries builds the master, worker and target binaries once per test
// process and returns their directory.
func Binaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		binDir, err = os.MkdirTemp("", "stampede-bin-")
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir, "./master", "./worker", "./target", "./test/fleet")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building binaries: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the stampede module")
	}
	return filepath.Dir(mod), nil
}

// Proc is one running binary.
type Proc struct {
	Name string
	Addr string // host:port of its HTTP listener
	Log  string
	Args []string
	bin  string
	cmd  *exec.Cmd
	done chan struct{}
	t    testing.TB
	mu   sync.Mutex
}

// URL is the process's base URL.
func (p *Proc) URL() string { return "http://" + p.Addr }

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Start launches a binary from Binaries with args; its output goes to a
// log file in dir.
func Start(t testing.TB, dir, name, bin, addr string, args ...string) *Proc {
	t.Helper()
	p := &Proc{Name: name, Addr: addr, Log: filepath.Join(dir, name+".log"), Args: args, bin: bin, t: t}
	p.start()
	t.Cleanup(func() { p.Stop(10 * time.Second) })
	return p
}

func (p *Proc) start() {
	f, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(p.bin, p.Args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Restart starts the process again with the same arguments (after Kill).
func (p *Proc) Restart() { p.start() }

// Kill sends SIGKILL and waits for the exit.
func (p *Proc) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Stop sends SIGTERM and waits up to d (then SIGKILL). It returns how long
// the process took to exit after SIGTERM.
func (p *Proc) Stop(d time.Duration) time.Duration {
	if p.Exited() {
		return 0
	}
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return time.Since(start)
	case <-time.After(d):
		p.t.Errorf("%s did not exit within %v of SIGTERM; killing it", p.Name, d)
		p.Kill()
		return time.Since(start)
	}
}

// LogTail returns the last n lines of the process log.
func (p *Proc) LogTail(n int) string {
	b, _ := os.ReadFile(p.Log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FreeAddr returns a free 127.0.0.1:port.
func FreeAddr(t testing.TB) string {
	return fmt.Sprintf("127.0.0.1:%d", zktest.FreePort(t))
}

// WaitReady polls url until it answers 200 or timeout passes.
func WaitReady(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready within %v", url, timeout)
}

// Eventually polls f every 50 ms until it is true or d passes.
func Eventually(t testing.TB, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not within %v: %s", d, what)
}

// GetJSON decodes a GET response into v and returns the status code. It
// sends the operator token (see OperatorToken).
func GetJSON(t testing.TB, url string, v any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	authorize(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && len(b) > 0 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, b)
		}
	}
	return resp.StatusCode
}

// PostJSON posts body (marshalled unless already []byte) and decodes the
// response into v; it returns the status code. It sends the operator
// token (see OperatorToken).
func PostJSON(t testing.TB, url string, body, v any) int {
	t.Helper()
	return SendJSON(t, http.MethodPost, url, body, v)
}

// SendJSON is PostJSON with another method (PATCH, PUT, DELETE).
func SendJSON(t testing.TB, method, url string, body, v any) int {
	t.Helper()
	var b []byte
	switch x := body.(type) {
	case []byte:
		b = x
	case string:
		b = []byte(x)
	case nil:
	default:
		var err error
		if b, err = json.Marshal(x); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	authorize(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if v != nil && len(rb) > 0 {
		if err := json.Unmarshal(rb, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, rb)
		}
	}
	return resp.StatusCode
}

// ready reports whether url answers 200 within a second.
func ready(url string) bool {
	cl := http.Client{Timeout: time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// dialable reports whether addr accepts TCP connections.
func dialable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
