package api

import (
	"strings"
	"testing"
)

func TestParseTokens(t *testing.T) {
	const op, vw = "operator-token-0123456789", "viewer-token-0123456789"
	tests := []struct {
		name, file, err string
	}{
		{"two roles, comments and blank lines", "# tokens\n\noperator " + op + "\n  viewer   " + vw + "  \n", ""},
		{"empty", "# nothing\n\n", "no tokens"},
		{"unknown role", "admin " + op + "\n", `line 1: unknown role "admin"`},
		{"missing token", "operator\n", `line 1: want "<role> <token>"`},
		{"three fields", "operator " + op + " extra\n", `line 1: want "<role> <token>"`},
		{"short token", "viewer short\n", "line 1: token of 5 characters, want 16 to 256"},
		{"long token", "viewer " + strings.Repeat("a", 257) + "\n", "token of 257 characters"},
		{"token with a quote", "viewer " + op + `"` + "\n", "character outside"},
		{"token with a comma", "viewer " + op + ",x\n", "character outside"},
		{"listed twice", "viewer " + op + "\noperator " + op + "\n", "line 2: token listed twice"},
	}
	for _, tt := range tests {
		tk, err := ParseTokens([]byte(tt.file))
		if tt.err == "" {
			if err != nil {
				t.Errorf("%s: ParseTokens = %v, want no error", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: ParseTokens error = %v, want %q", tt.name, err, tt.err)
		}
		if err != nil && (strings.Contains(err.Error(), op) || tk != nil) {
			t.Errorf("%s: the error shows the token or a result came back: %v", tt.name, err)
		}
	}
}

func TestTokenRoles(t *testing.T) {
	tk, err := ParseTokens([]byte("operator operator-token-0123456789\nviewer viewer-token-0123456789\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		token string
		want  Role
	}{
		{"operator-token-0123456789", RoleOperator},
		{"viewer-token-0123456789", RoleViewer},
		{"viewer-token-012345678", RoleNone},
		{"viewer-token-01234567890", RoleNone},
		{"", RoleNone},
	} {
		if got := tk.Role(tt.token); got != tt.want {
			t.Errorf("Role(%q) = %v, want %v", tt.token, got, tt.want)
		}
	}
}
