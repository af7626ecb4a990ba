# make fuzz: every Go fuzz target for FUZZTIME each (a crash fails the
# run and leaves its input under the package's testdata/fuzz/ to replay
# with a plain `go test`). The seed corpora are the f.Add calls and the
# files under testdata/fuzz/.
FUZZTIME ?= 10s
FUZZ_TARGETS := \
	./pkg/spec:FuzzParse \
	./pkg/spec:FuzzParseYAML \
	./pkg/template:FuzzCompile \
	./pkg/hist:FuzzDecode \
	./pkg/report:FuzzDecodeReport \
	./master/internal/aggregate:FuzzTrustedReport

.PHONY: fuzz
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done
