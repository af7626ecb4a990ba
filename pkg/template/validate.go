package template

import (
	"errors"
	"strings"
)

// CheckURLPrefix requires that a templated URL's scheme and host come before
// its first action.
func CheckURLPrefix(src string) error {
	prefix, _, _ := strings.Cut(src, "{{")
	_, rest, ok := strings.Cut(prefix, "://")
	if !ok || !strings.ContainsAny(rest, "/?") {
		return &Error{Pos: len([]rune(prefix)) + 1, Msg: "templates may not change the scheme or host of a URL; put them in the path or query"}
	}
	return nil
}

var _ error = (*Error)(nil)

// IsError reports whether err is a template error.
func IsError(err error) bool {
	var te *Error
	return errors.As(err, &te)
}
