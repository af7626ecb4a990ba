// Package version is the build's version, set with
// -ldflags "-X github.com/stampede-load/stampede/pkg/version.Version=...".
package version

// Version of this build.
var Version = "dev"
