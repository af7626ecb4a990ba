package api

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"os"
	"strings"
)

// Role is what a token may do.
type Role int

// Roles, from least to most.
const (
	// RoleNone: no valid token.
	RoleNone Role = iota
	// RoleViewer may read: every GET and the websocket feeds.
	RoleViewer
	// RoleOperator may also create, stop and delete tests.
	RoleOperator
)

func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleOperator:
		return "operator"
	}
	return "none"
}

// Token file limits.
const (
	maxTokensFile = 1 << 20
	minTokenLen   = 16
	maxTokenLen   = 256
)

// Tokens is a parsed tokens file. Only SHA-256 digests of the tokens are
// kept, and a lookup compares the digest of the presented token with every
// entry in constant time, so neither a token's content nor its length
// leaks through timing. A Tokens is immutable and safe for concurrent use.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	role   Role
	digest [sha256.Size]byte
}

// LoadTokens reads a tokens file (see ParseTokens). Errors name the file
// and the line, never a token.
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokensFile+1))
	if err != nil {
		return nil, fmt.Errorf("tokens file %s: %w", path, err)
	}
	if len(b) > maxTokensFile {
		return nil, fmt.Errorf("tokens file %s: larger than %d bytes", path, maxTokensFile)
	}
	t, err := ParseTokens(b)
	if err != nil {
		return nil, fmt.Errorf("tokens file %s: %w", path, err)
	}
	return t, nil
}

// ParseTokens parses lines "<role> <token>" with role viewer or operator.
// Blank lines and lines starting with # are ignored. A token is 16 to 256
// characters from the RFC 7230 token set (letters, digits and
// !#$%&'*+-.^_`|~), so it fits an Authorization header and a websocket
// subprotocol. At least one token is required; a token listed twice is an
// error.
func ParseTokens(b []byte) (*Tokens, error) {
	t := &Tokens{}
	seen := map[[sha256.Size]byte]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), maxTokensFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf(`line %d: want "<role> <token>"`, n)
		}
		var role Role
		switch f[0] {
		case "viewer":
			role = RoleViewer
		case "operator":
			role = RoleOperator
		default:
			return nil, fmt.Errorf("line %d: unknown role %q (want viewer or operator)", n, f[0])
		}
		if err := validToken(f[1]); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		d := sha256.Sum256([]byte(f[1]))
		if seen[d] {
			return nil, fmt.Errorf("line %d: token listed twice", n)
		}
		seen[d] = true
		t.entries = append(t.entries, tokenEntry{role: role, digest: d})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(t.entries) == 0 {
		return nil, fmt.Errorf("no tokens")
	}
	return t, nil
}

func validToken(s string) error {
	if len(s) < minTokenLen || len(s) > maxTokenLen {
		return fmt.Errorf("token of %d characters, want %d to %d", len(s), minTokenLen, maxTokenLen)
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return fmt.Errorf("token has a character outside letters, digits and !#$%%&'*+-.^_`|~")
		}
	}
	return nil
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// Role returns the role of token, RoleNone if it is not listed. Every entry
// is compared, whatever matches.
func (t *Tokens) Role(token string) Role {
	if token == "" {
		return RoleNone
	}
	d := sha256.Sum256([]byte(token))
	role := RoleNone
	for _, e := range t.entries {
		eq := subtle.ConstantTimeCompare(d[:], e.digest[:])
		role = Role(subtle.ConstantTimeSelect(eq, int(e.role), int(role)))
	}
	return role
}
