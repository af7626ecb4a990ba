package testcluster

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// EventuallyNoError retries f every 250 ms until it returns nil or d
// passes, then fails the test with f's last error.
func EventuallyNoError(t testing.TB, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", d, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// FetchJSON GETs url with the operator token and decodes a 200 answer into
// v; any other answer is an error. It does not fail the test, so it can be
// retried (EventuallyNoError).
func FetchJSON(url string, v any) error {
	body, err := fetch(url)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w: %s", url, err, body)
	}
	return nil
}

// Fetch GETs url with the operator token and returns the body of a 200
// answer; any other answer is an error.
func Fetch(url string) ([]byte, error) { return fetch(url) }

// fetch GETs url with the operator token; an answer other than 200 is an
// error.
func fetch(url string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	authorize(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s %s", url, resp.Status, body)
	}
	return body, nil
}

// WaitPhaseAt polls GET {api}/tests/{id} (api ends in /api/v1) until the
// test's phase is one of phases ("running|completed"), decoding each answer
// into v the answer that had one; it fails the test after d.
func WaitPhaseAt(t testing.TB, api, id, phases string, d time.Duration, v any) {
	t.Helper()
	var last struct {
		Phase  string `json:"phase"`
		Reason string `json:"reason"`
	}
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		body, err := fetch(api + "/tests/" + id)
		if err == nil && json.Unmarshal(body, &last) == nil {
			for _, p := range strings.Split(phases, "|") {
				if last.Phase == p {
					if err := json.Unmarshal(body, v); err != nil {
						t.Fatalf("test %s: %v in %s", id, err, body)
					}
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("test %s is %q (%s) after %v, want %s", id, last.Phase, last.Reason, d, phases)
}
