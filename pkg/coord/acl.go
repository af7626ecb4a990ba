package coord

import (
	"context"
	"crypto/sha1" //nolint:gosec // ZooKeeper's digest scheme is defined with SHA-1
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ZooKeeper access control.
//
// A Client configured with Config.Auth ("user:password") authenticates its
// session with the digest scheme before Dial returns, and creates every
// node with an ACL that grants all permissions to that identity and none to
// anyone else: a client without the secret can neither list, read, create
// under, change nor delete a Stampede node. (ZooKeeper 3.8.0 still answers
// `exists` on any node; later servers check it too.)
//
// go-zookeeper remembers the credentials and sends them again on every new
// connection, including the new session it opens after an expiry, before it
// sends any queued request; nodes re-created after an expiry therefore get
// the same ACL and the new session may read them.
//
// Without Config.Auth nodes are created open to everyone (world:anyone),
// as a cluster without a ZooKeeper secret needs.

// maxAuthFile bounds the ZooKeeper secret file.
const maxAuthFile = 4 << 10

// ErrNoAuth is returned when ZooKeeper refuses a call because this
// client's identity lacks the permission (a wrong or missing secret).
var ErrNoAuth = errors.New("coord: not authorized by the node's ACL (wrong or missing ZooKeeper secret)")

// ReadAuthFile reads a ZooKeeper secret file: one line "user:password"
// (surrounding white space and a trailing newline are ignored). The error
// names the file but never shows its content.
func ReadAuthFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("ZooKeeper auth file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxAuthFile+1))
	if err != nil {
		return "", fmt.Errorf("ZooKeeper auth file: %w", err)
	}
	if len(b) > maxAuthFile {
		return "", fmt.Errorf("ZooKeeper auth file %s: larger than %d bytes", path, maxAuthFile)
	}
	auth := strings.TrimSpace(string(b))
	if err := ValidateAuth(auth); err != nil {
		return "", fmt.Errorf("ZooKeeper auth file %s: %w", path, err)
	}
	return auth, nil
}

// ValidateAuth checks a "user:password" digest identity.
func ValidateAuth(auth string) error {
	user, pass, ok := strings.Cut(auth, ":")
	switch {
	case !ok:
		return errors.New(`want one line "user:password"`)
	case user == "":
		return errors.New("the user name is empty")
	case len(pass) < 8:
		return errors.New("the password is shorter than 8 characters")
	case strings.ContainsAny(auth, " \t\r\n"):
		return errors.New("user and password must not contain white space")
	}
	return nil
}

// nodeACL is the ACL for every node the client creates.
func nodeACL(auth string) []ACL {
	if auth == "" {
		return []ACL{{Perms: PermAll, Scheme: "world", ID: "anyone"}}
	}
	return []ACL{{Perms: PermAll, Scheme: "digest", ID: digestID(auth)}}
}

// digestID is the identity ZooKeeper's digest scheme derives from
// "user:password": "user:" and the base64 SHA-1 of the whole string.
func digestID(auth string) string {
	user, _, _ := strings.Cut(auth, ":")
	sum := sha1.Sum([]byte(auth)) //nolint:gosec // the scheme's hash, not our choice
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// addAuth authenticates the session, retrying while the connection is
// unsettled, until ctx ends. go-zookeeper remembers credentials only from
// a call that succeeded.
func (c *Client) addAuth(ctx context.Context) error {
	if c.cfg.Auth == "" {
		return nil
	}
	for {
		_, err := call(ctx, c, func() (struct{}, error) {
			return struct{}{}, c.conn.AddAuth("digest", []byte(c.cfg.Auth))
		})
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrConnection) && !errors.Is(err, ErrTimeout) {
			return fmt.Errorf("coord: authenticating with ZooKeeper: %w", err)
		}
		if err := c.WaitConnected(ctx); err != nil {
			return err
		}
	}
}

// Authenticated reports whether this client uses a ZooKeeper secret.
func (c *Client) Authenticated() bool { return c.cfg.Auth != "" }

// OpenToAnyone reports whether p's ACL grants anything to every client
// (world:anyone): a node created before the cluster had a ZooKeeper secret,
// or by a client without one.
func (c *Client) OpenToAnyone(ctx context.Context, p string) (bool, error) {
	acl, err := call(ctx, c, func() ([]ACL, error) { return c.conn.GetACL(p) })
	if err != nil {
		return false, err
	}
	for _, a := range acl {
		if a.Scheme == "world" && a.ID == "anyone" && a.Perms != 0 {
			return true, nil
		}
	}
	return false, nil
}
