package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The shop API is a tiny stateful service for scenario tests: a journey logs
// in, carries the token it got back, and spends it on a cart and a checkout.
//
//	POST /shop/login     {"user": U}  ->  {"token": "tok-U"}
//	POST /shop/cart      Authorization: Bearer tok-U  ->  {"ok": true}
//	POST /shop/checkout  Authorization: Bearer tok-U  ->  {"ok": true}
//
// A cart or checkout without a well-formed token is answered 401 and counted
// as unauthorized. Shop requests are load requests: they are counted in
// Requests and honour a stall like every other load request.

// Bounds of the shop, so that hostile input cannot grow the target.
const (
	// MaxShopUsers is how many distinct users /stats counts logins for;
	// logins of further users are counted in logins_untracked only.
	MaxShopUsers = 10000
	// MaxShopUser is the longest user name accepted, in bytes.
	MaxShopUser = 128
	// maxShopBody bounds the login body read.
	maxShopBody = 4 << 10
)

const tokenPrefix = "tok-"

// shopStats counts what the shop saw. Safe for concurrent use.
type shopStats struct {
	mu        sync.Mutex
	logins    map[string]int64 // guarded by mu; at most MaxShopUsers keys
	untracked int64            // guarded by mu

	carts, checkouts, unauthorized atomic.Int64
}

// ShopSnapshot is the "shop" part of GET /stats.
type ShopSnapshot struct {
	// Logins counts successful logins per user, for the first
	// MaxShopUsers distinct users.
	Logins map[string]int64 `json:"logins"`
	// LoginsUntracked counts logins of users past that limit.
	LoginsUntracked int64 `json:"logins_untracked,omitempty"`
	Carts           int64 `json:"carts"`
	Checkouts       int64 `json:"checkouts"`
	// Unauthorized counts cart and checkout requests answered 401.
	Unauthorized int64 `json:"unauthorized"`
}

func (s *shopStats) login(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logins == nil {
		s.logins = map[string]int64{}
	}
	if _, ok := s.logins[user]; ok || len(s.logins) < MaxShopUsers {
		s.logins[user]++
		return
	}
	s.untracked++
}

func (s *shopStats) snapshot() ShopSnapshot {
	snap := ShopSnapshot{
		Logins:       map[string]int64{},
		Carts:        s.carts.Load(),
		Checkouts:    s.checkouts.Load(),
		Unauthorized: s.unauthorized.Load(),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for u, n := range s.logins {
		snap.Logins[u] = n
	}
	snap.LoginsUntracked = s.untracked
	return snap
}

func (s *shopStats) reset() {
	s.mu.Lock()
	s.logins, s.untracked = nil, 0
	s.mu.Unlock()
	s.carts.Store(0)
	s.checkouts.Store(0)
	s.unauthorized.Store(0)
}

// validUser reports whether u is a user name the shop accepts: 1 to
// MaxShopUser printable ASCII bytes other than space.
func validUser(u string) bool {
	if u == "" || len(u) > MaxShopUser {
		return false
	}
	for i := 0; i < len(u); i++ {
		if u[i] <= ' ' || u[i] > '~' {
			return false
		}
	}
	return true
}

// shop serves /shop/*; it counts the request as load like echo does.
func (srv *Server) shop(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	srv.stats.begin(r.Header.Get(WorkerHeader))
	code, body := srv.shopAnswer(r)
	srv.stall.wait()
	h := w.Header()
	if code == http.StatusOK {
		h["Content-Type"] = applicationJSON
	} else {
		h["Content-Type"] = textPlain
	}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
	srv.stats.end(code, len(body), time.Since(start))
}

var applicationJSON = []string{"application/json"}

var shopOK = `{"ok":true}` + "\n"

// shopAnswer decides the status and body of one shop request.
func (srv *Server) shopAnswer(r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "use POST\n"
	}
	shop := &srv.stats.shop
	switch r.URL.Path {
	case "/shop/login":
		var in struct {
			User string `json:"user"`
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, maxShopBody+1))
		if err != nil || len(b) > maxShopBody || json.Unmarshal(b, &in) != nil || !validUser(in.User) {
			return http.StatusBadRequest, `want {"user": U} with U 1 to 128 printable characters` + "\n"
		}
		shop.login(in.User)
		out, _ := json.Marshal(map[string]string{"token": tokenPrefix + in.User})
		return http.StatusOK, string(out) + "\n"
	case "/shop/cart", "/shop/checkout":
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if u, isTok := strings.CutPrefix(tok, tokenPrefix); !ok || !isTok || !validUser(u) {
			shop.unauthorized.Add(1)
			return http.StatusUnauthorized, "want Authorization: Bearer tok-USER\n"
		}
		if r.URL.Path == "/shop/cart" {
			shop.carts.Add(1)
		} else {
			shop.checkouts.Add(1)
		}
		return http.StatusOK, shopOK
	default:
		return http.StatusNotFound, "404 page not found\n"
	}
}
