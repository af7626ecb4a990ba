package zktest

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Traffic is what the clients of one connection wrote to the server and
// read from it, in bytes.
type Traffic struct{ ToServer, ToClient int64 }

// SocketBytes reads, from the kernel's TCP counters (ss -ti), the traffic
// of every established connection to the server's client port, by client
// address. Counting there puts nothing in the path (a counting proxy
// doubled every packet's system calls, on the cores it measured).
func (s *Server) SocketBytes() (map[string]Traffic, error) {
	out, err := exec.Command("ss", "-tinH", "state", "established", fmt.Sprintf("( sport = :%d )", s.Port)).Output()
	if err != nil {
		return nil, fmt.Errorf("ss: %w", err)
	}
	return parseSS(string(out)), nil
}

// parseSS reads ss -tinH output: a line naming the local and peer address,
// then a line of counters (bytes_received: what the server received,
// bytes_acked: what it sent and the client got).
func parseSS(out string) map[string]Traffic {
	conns := map[string]Traffic{}
	peer := ""
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, " ") {
			peer = f[len(f)-1]
			continue
		}
		var t Traffic
		for _, kv := range f {
			k, v, ok := strings.Cut(kv, ":")
			n, err := strconv.ParseInt(v, 10, 64)
			if !ok || err != nil {
				continue
			}
			switch k {
			case "bytes_received":
				t.ToServer = n
			case "bytes_acked":
				t.ToClient = n
			}
		}
		if peer != "" {
			conns[peer] = t
		}
	}
	return conns
}

// TrafficSince sums the traffic of after over before, by connection (a
// connection opened in between counts from zero).
func TrafficSince(before, after map[string]Traffic) Traffic {
	var sum Traffic
	for peer, a := range after {
		b := before[peer]
		sum.ToServer += max(0, a.ToServer-b.ToServer)
		sum.ToClient += max(0, a.ToClient-b.ToClient)
	}
	return sum
}
