# Dashboard front end and browser-test prerequisites (included by the Makefile).
#
#   make dashboard      npm ci + type check + esbuild bundle into dashboard/dist/
#                       (dist/ is committed: go build and go test need no npm)
#   make dashboard-test type check, unit tests of the page's helpers (node's test
#                       runner), and a check that dist/ was rebuilt from src/;
#                       part of `make test`
#   make browser-deps   install Debian's chromium if /usr/bin/chromium is missing
#   make test-browser   the headless Chromium end-to-end test (real cluster)

DASHBOARD_SRC := $(wildcard dashboard/src/*.ts dashboard/src/*/*.ts dashboard/src/*.css dashboard/src/*.html) \
	dashboard/build.mjs dashboard/package.json dashboard/package-lock.json dashboard/tsconfig.json
CHROMIUM ?= /usr/bin/chromium

.PHONY: dashboard dashboard-deps dashboard-test browser-deps test-browser

dashboard/node_modules/.package-lock.json: dashboard/package.json dashboard/package-lock.json
	cd dashboard && npm ci --no-audit --no-fund

dashboard-deps: dashboard/node_modules/.package-lock.json

dashboard: dashboard/dist/index.html

dashboard/dist/index.html: $(DASHBOARD_SRC) dashboard/node_modules/.package-lock.json
	cd dashboard && npx --no-install tsc --noEmit && node build.mjs

dashboard-test: dashboard-deps
	cd dashboard && npx --no-install tsc --noEmit && npm test && node build.mjs --check

test: dashboard-test

browser-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing Debian's chromium"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	fi
	@$(CHROMIUM) --version 2>/dev/null || true

test-browser: browser-deps
	go test -count=1 -timeout 15m ./test/browser/...
