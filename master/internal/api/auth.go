package api

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Websocket subprotocols. A browser cannot set headers on a websocket
// handshake, so it offers two subprotocols: WebSocketProtocol, which the
// master selects, and WebSocketTokenPrefix+token, which carries the token
// (never the URL, which proxies and logs record).
const (
	WebSocketProtocol    = "stampede"
	WebSocketTokenPrefix = "stampede.token."
)

// Auth guards every /api/v1 request, in this order:
//
//  1. A request whose Origin header is present and is not this master's
//     own (the scheme and the Host the request was sent to or its
//     X-Forwarded-Host, or one of Origins) is refused with 403: a web page elsewhere cannot drive the
//     API with its visitor's browser, even with --no-auth.
//  2. Without a valid token, 401. The token is read from
//     "Authorization: Bearer <token>", or on a websocket handshake from a
//     WebSocketTokenPrefix subprotocol.
//  3. A viewer's request other than GET or HEAD is refused with 403.
//  4. A request other than GET or HEAD that has a body or a Content-Type
//     must be application/json or application/yaml, else 415.
//
// A nil Tokens refuses every request unless Disabled is set (--no-auth),
// which makes every caller an operator but keeps checks 1 and 4. Tokens are
// never logged.
type Auth struct {
	Tokens   RoleChecker
	Disabled bool
	// Origins are further allowed origins (the master's advertised URL,
	// when users reach it through another name).
	Origins []string
	Log     *slog.Logger
}

// RoleChecker tells a token's role (RoleNone for an unknown one): *Tokens,
// or a *TokenFile that follows its file.
type RoleChecker interface {
	Role(token string) Role
}

var _ RoleChecker = (*Tokens)(nil)

// Middleware wraps next with the checks above.
func (a *Auth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && !a.sameOrigin(origin, r) {
			a.refuse(w, r, http.StatusForbidden, "cross-origin request refused: Origin "+origin+" is not this master")
			return
		}
		role := RoleOperator
		if !a.Disabled {
			role = RoleNone
			if a.Tokens != nil {
				role = a.Tokens.Role(requestToken(r))
			}
		}
		if role == RoleNone {
			w.Header().Set("WWW-Authenticate", `Bearer realm="stampede"`)
			a.refuse(w, r, http.StatusUnauthorized, "missing or invalid token: send Authorization: Bearer <token>")
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), roleKey{}, role))
		if isRead(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		if role < RoleOperator {
			a.refuse(w, r, http.StatusForbidden, "a viewer token may only read; "+r.Method+" needs an operator token")
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" || r.ContentLength != 0 {
			if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" && mt != "application/yaml" {
				a.refuse(w, r, http.StatusUnsupportedMediaType, "a request body must be application/json or application/yaml")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

type roleKey struct{}

// RoleOf is the role Auth found for the request whose context ctx is
// (RoleNone outside Auth).
func RoleOf(ctx context.Context) Role {
	r, _ := ctx.Value(roleKey{}).(Role)
	return r
}

func isRead(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// sameOrigin reports whether origin is one of a.Origins, or http(s):// and
// the host r was sent to: its Host, or the X-Forwarded-Host a reverse proxy
// in front of the master set. (A page elsewhere cannot make a browser send
// X-Forwarded-Host without a CORS preflight, which the master never
// grants.)
func (a *Auth) sameOrigin(origin string, r *http.Request) bool {
	for _, o := range a.Origins {
		if strings.EqualFold(strings.TrimRight(o, "/"), origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, h := range r.Header.Values("X-Forwarded-Host") {
		for _, fh := range strings.Split(h, ",") {
			if strings.EqualFold(u.Host, strings.TrimSpace(fh)) {
				return true
			}
		}
	}
	return false
}

// requestToken is the bearer token of r, or "".
func requestToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return ""
	}
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(h, ",") {
			if p = strings.TrimSpace(p); strings.HasPrefix(p, WebSocketTokenPrefix) {
				return p[len(WebSocketTokenPrefix):]
			}
		}
	}
	return ""
}

// refuse answers an error and logs the refusal (without any credential).
func (a *Auth) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if a.Log != nil {
		a.Log.Debug("API request refused", "status", status, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
	}
	writeError(w, status, msg)
}
