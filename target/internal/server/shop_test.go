package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func shopPost(t *testing.T, url, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestShop(t *testing.T) {
	_, base := startTarget(t)
	steps := []struct {
		path, auth, body string
		wantCode         int
		wantBody         string // prefix
	}{
		{"/shop/login", "", `{"user":"ann"}`, 200, `{"token":"tok-ann"}`},
		{"/shop/login", "", `{"user":"ann"}`, 200, `{"token":"tok-ann"}`},
		{"/shop/login", "", `{"user":"bob"}`, 200, `{"token":"tok-bob"}`},
		{"/shop/login", "", `{"user":""}`, 400, "want"},
		{"/shop/login", "", `{"user":"a b"}`, 400, "want"},
		{"/shop/login", "", `not json`, 400, "want"},
		{"/shop/login", "", `{"user":"` + strings.Repeat("x", MaxShopUser+1) + `"}`, 400, "want"},
		{"/shop/cart", "Bearer tok-ann", "", 200, `{"ok":true}`},
		{"/shop/cart", "Bearer tok-bob", "", 200, `{"ok":true}`},
		{"/shop/checkout", "Bearer tok-ann", "", 200, `{"ok":true}`},
		{"/shop/cart", "", "", 401, "want"},
		{"/shop/cart", "Bearer tok-", "", 401, "want"},
		{"/shop/checkout", "Bearer ann", "", 401, "want"},
		{"/shop/checkout", "Basic tok-ann", "", 401, "want"},
		{"/shop/nothing", "", "", 404, "404"},
	}
	for _, s := range steps {
		code, body := shopPost(t, base+s.path, s.auth, s.body)
		if code != s.wantCode || !strings.HasPrefix(body, s.wantBody) {
			t.Errorf("POST %s (auth %q, body %.20q) = %d %q, want %d %q...", s.path, s.auth, s.body, code, body, s.wantCode, s.wantBody)
		}
	}
	if code, _ := get(t, base+"/shop/login"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /shop/login = %d, want 405", code)
	}
	snap := stats(t, base)
	want := ShopSnapshot{Logins: map[string]int64{"ann": 2, "bob": 1}, Carts: 2, Checkouts: 1, Unauthorized: 4}
	got := snap.Shop
	if len(got.Logins) != 2 || got.Logins["ann"] != 2 || got.Logins["bob"] != 1 ||
		got.Carts != want.Carts || got.Checkouts != want.Checkouts || got.Unauthorized != want.Unauthorized {
		t.Errorf("stats shop = %+v, want %+v", got, want)
	}
	if snap.Requests != int64(len(steps)+1) {
		t.Errorf("requests = %d, want every shop request counted once (%d)", snap.Requests, len(steps)+1)
	}
	if snap.Protocols["HTTP/1"] != snap.Requests {
		t.Errorf("protocols = %v, want HTTP/1: %d", snap.Protocols, snap.Requests)
	}
	if _, body := post(t, base+"/stats/reset"); !strings.Contains(body, `"shop":{"logins":{},"carts":0,"checkouts":0,"unauthorized":0}`) {
		t.Errorf("stats after reset = %s, want an empty shop", body)
	}
}

func TestShopUsersBounded(t *testing.T) {
	var s shopStats
	for i := range MaxShopUsers + 5 {
		s.login("u" + itoa(i%1000) + "-" + itoa(i/1000))
	}
	s.login("u0-0")
	snap := s.snapshot()
	if len(snap.Logins) != MaxShopUsers || snap.LoginsUntracked != 5 || snap.Logins["u0-0"] != 2 {
		t.Errorf("users tracked = %d, untracked = %d, u0-0 = %d; want %d, 5, 2",
			len(snap.Logins), snap.LoginsUntracked, snap.Logins["u0-0"], MaxShopUsers)
	}
}
