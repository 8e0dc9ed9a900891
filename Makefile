# ptcdoctor: see README.md. Every target works on a fresh machine with Go.
GO      ?= go
BIN     ?= bin/ptcdoctor
PKGS    := ./...
FUZZTIME ?= 60s

.PHONY: build test demo sim bench bench-scan bench-ui lint fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/ptcdoctor

# The test command of the README and of CI.
test: lint
	$(GO) test -count=1 $(PKGS)

# The TUI on the embedded demo account, writes allowed (nothing leaves the machine).
demo: build
	$(BIN) --demo

sim: build
	$(BIN) sim --scenario $(or $(SCENARIO),demo)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# The scan against generated accounts throttled to RATE calls a second per operation.
RATE ?= 20
bench-scan:
	PTCDOCTOR_BENCH_RATE=$(RATE) $(GO) test -run '^$$' -bench BenchmarkScan -benchtime 1x ./ecrops/

# One frame of the TUI (a key press and the redraw) on a list of 100,000 images.
bench-ui:
	$(GO) test -run '^$$' -bench BenchmarkFrame100kRows -benchtime 500x ./ui/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Longer fuzzing than `make test` does; the corpus it finds is kept in testdata/fuzz.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseScenario -fuzztime $(FUZZTIME) ./ecrops/sim/

clean:
	rm -rf bin
