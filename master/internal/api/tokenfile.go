package api

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// TokenFile is a tokens file that is read again when it changes, so tokens
// can be rotated without restarting the master (on Kubernetes a Secret
// volume is updated in place). At most every recheck, the first lookup
// stats the file; a changed size or modification time re-reads it. A file
// that no longer parses (or cannot be read) keeps the tokens last read, and
// the error is logged (at most once per recheck). Safe for concurrent use.
type TokenFile struct {
	path    string
	recheck time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	tokens  *Tokens
	checked time.Time
	mod     time.Time
	size    int64
}

// TokenFileRecheck is how often a TokenFile looks at its file.
const TokenFileRecheck = 2 * time.Second

// OpenTokenFile reads path (an error stops the master) and returns a
// TokenFile that follows its changes.
func OpenTokenFile(path string, log *slog.Logger) (*TokenFile, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	t, err := LoadTokens(path)
	if err != nil {
		return nil, err
	}
	return &TokenFile{path: path, recheck: TokenFileRecheck, log: log, tokens: t,
		checked: time.Now(), mod: fi.ModTime(), size: fi.Size()}, nil
}

var _ RoleChecker = (*TokenFile)(nil)

// Role is the role of token in the current file (see Tokens.Role).
func (f *TokenFile) Role(token string) Role {
	return f.current().Role(token)
}

func (f *TokenFile) current() *Tokens {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if now.Sub(f.checked) < f.recheck {
		return f.tokens
	}
	f.checked = now
	fi, err := os.Stat(f.path)
	if err != nil {
		f.failed(err)
		return f.tokens
	}
	if fi.ModTime().Equal(f.mod) && fi.Size() == f.size {
		return f.tokens
	}
	f.mod, f.size = fi.ModTime(), fi.Size()
	t, err := LoadTokens(f.path)
	if err != nil {
		f.failed(err)
		return f.tokens
	}
	f.tokens = t
	if f.log != nil {
		f.log.Info("tokens file read again", "file", f.path, "tokens", len(t.entries))
	}
	return f.tokens
}

// failed logs a file that cannot be used; the tokens last read stay.
func (f *TokenFile) failed(err error) {
	if f.log != nil {
		f.log.Error("tokens file unusable; keeping the tokens last read", "err", err)
	}
}
