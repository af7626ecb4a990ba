package main

import (
	"net/http"

	"github.com/stampede-load/stampede/dashboard"
)

// ui is the embedded dashboard, served at / by every master.
func ui() http.Handler { return dashboard.Handler() }
