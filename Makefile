# ptcdoctor: see README.md. Every target works on a fresh machine with Go.
GO      ?= go
BIN     ?= bin/ptcdoctor
PKGS    := ./...
FUZZTIME ?= 60s

.PHONY: build test demo demo-fleet sim bench bench-scan bench-scan-repo bench-doctor bench-ui bench-tui-scan bench-fleet lint fuzz clean

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/ptcdoctor

# The test command of the README and of CI.
test: lint
	$(GO) test -count=1 $(PKGS)

# The TUI on the embedded demo account, writes allowed (nothing leaves the machine).
demo: build
	$(BIN) --demo

# The TUI's fleet screen on the embedded demo fleet: four accounts in two regions, in
# process, writes allowed per target after enter (nothing leaves the machine).
demo-fleet: build
	$(BIN) --demo-fleet

sim: build
	$(BIN) sim --scenario $(or $(SCENARIO),demo)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# The scan against generated accounts throttled to RATE calls a second per operation.
RATE ?= 20
bench-scan:
	PTCDOCTOR_BENCH_RATE=$(RATE) $(GO) test -run '^$$' -bench BenchmarkScan -benchtime 1x ./ecrops/

# The scan of one repository of 100,000 images: its DescribeImages pages, one after another.
bench-scan-repo:
	PTCDOCTOR_BENCH_RATE=$(RATE) $(GO) test -run '^$$' -bench 'BenchmarkScan/1rule-1repo-100000images' -benchtime 1x ./ecrops/

# The built binary's `doctor --json --stats` on one account of 100,000 images (50 rules of
# 100 repositories of 20 images, 50 no-lifecycle findings), the stand-in in another
# process: ptcdoctor's peak resident memory, the report's size, the calls counted.
bench-doctor:
	$(GO) test -run '^$$' -bench BenchmarkDoctor100kImages -benchtime 3x ./cmd/ptcdoctor/

# doctor over a generated fleet served by `ptcdoctor sim` in its own process, each
# account-region throttled at RATE calls a second per operation. FLEET is
# ACCOUNTSxREGIONSxREPOSITORIESxIMAGES; the issue's full size is FLEET=50x3x200x10 (on 2
# cores, with RATE=2: at 20 calls/s its 150,000 calls need more CPU than the bound's 10 s).
FLEET ?= 10x3x50x10
bench-fleet:
	PTCDOCTOR_BENCH_FLEET=$(FLEET) PTCDOCTOR_BENCH_RATE=$(RATE) $(GO) test -run '^$$' -bench BenchmarkFleet -benchtime 1x ./cmd/ptcdoctor/

# One frame of the TUI (a key press and the redraw) on a list of 100,000 images, and a key
# press while a scan fights faults in the background.
bench-ui:
	$(GO) test -run '^$$' -bench 'BenchmarkFrame100kRows|BenchmarkKeyUnderLoad' -benchtime 500x ./ui/
	$(GO) test -run '^$$' -bench 'BenchmarkOpenList100kRows' -benchtime 20x ./ui/

# One account scanned and diagnosed the way `doctor` does it and the way the TUI does it
# (the interface driven headless, a redraw per message, as the runtime does), against the
# stand-in on loopback: each path's wall and CPU time. ACCOUNT is RULESxREPOSITORIESxIMAGES.
ACCOUNT ?= 50x100x20
bench-tui-scan:
	PTCDOCTOR_BENCH_ACCOUNT=$(ACCOUNT) $(GO) test -run '^$$' -bench BenchmarkScanDoctorVsTUI -benchtime 1x -count 3 ./ui/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Longer fuzzing than `make test` does (which runs each target's corpus): every parser of
# outside input, FUZZTIME each. New interesting inputs stay in Go's fuzz cache; failures
# land in the package's testdata/fuzz/, which is kept.
FUZZ_TARGETS := ./model:FuzzParseRef ./model:FuzzImagesFromFile ./model:FuzzPrintable ./model:FuzzParseDigest \
	./ecrops:FuzzParseRateHeader ./ecrops:FuzzMergeStatement ./ecrops:FuzzRegistryPolicyDecision \
	./diagnose:FuzzExplainError ./ecrops/sim:FuzzParseScenario ./ecrops/sim:FuzzLifecyclePolicy \
	./ecrops/sim:FuzzPolicyDocument ./ecrops/sim:FuzzSecretValue ./diagnose/nodes:FuzzCheck
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; echo "== $$pkg $$fn"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; done

clean:
	rm -rf bin
