# make fuzz: every Go fuzz target for a fixed number of executions each (a
# crash fails the run and leaves its input under the package's
# testdata/fuzz/ to replay with a plain `go test`). The seed corpora are
# the f.Add calls and the files under testdata/fuzz/.
#
# The budget is a count (`-fuzztime Nx`), not a duration: with a duration,
# go1.26's fuzz coordinator can report its own end-of-time deadline as a
# failure ("context deadline exceeded", no crashing input) when a worker is
# mid-input at that instant on a busy machine. Each count is about ten
# seconds of that target on a 2-core machine; FUZZSCALE multiplies them all
# (FUZZSCALE=6 for about a minute each).
FUZZSCALE ?= 1
FUZZ_TARGETS := \
	./pkg/spec:FuzzParse:30000 \
	./pkg/spec:FuzzParseYAML:30000 \
	./pkg/template:FuzzCompile:300000 \
	./pkg/hist:FuzzDecode:150000 \
	./pkg/report:FuzzDecodeReport:100000 \
	./master/internal/aggregate:FuzzTrustedReport:50000 \
	./pkg/load/client:FuzzParseHead:130000

.PHONY: fuzz
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; n=$${rest##*:}; \
		n=$$((n * $(FUZZSCALE))); \
		echo "fuzz $$name in $$pkg for $$n executions"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $${n}x $$pkg; \
	done
