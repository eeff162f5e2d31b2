# Thin wrapper over CMake presets. The two commands of the quick start:
#   make demo   install what is missing, build, run the main job
#   make test   install what is missing, build, run the whole suite (+ sanitizers)
JOBS ?= $(shell nproc)
HVSIM := build/default/sim/hvsim

.PHONY: all deps build build-asan demo test test-default test-asan bench fuzz clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake --preset default >/dev/null
	@cmake --build --preset default -j $(JOBS)

build-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

demo: build
	@scripts/demo.sh $(HVSIM)

test: test-default test-asan

test-default: build
	@ctest --preset default -j $(JOBS)

test-asan: build-asan
	@ctest --preset asan -j $(JOBS) -LE oracle

bench: build
	@cmake --build --preset default --target bench

# Every libFuzzer target for FUZZ_SECONDS each, from its seeds (docs/fuzzing.md).
FUZZ_SECONDS ?= 60
FUZZERS = vmcs_dump vmcb_dump loader mmu_walk entry_checks decoder_xcheck hv_exits
fuzz: deps
	@cmake --preset fuzz -DHVSIM_PARTS="sim/mmu;models/vmx;models/svm;sim;fuzz" >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	@for t in $(FUZZERS); do mkdir -p build/fuzz/corpus/$$t && \
	  build/fuzz/fuzz/fuzz_$$t build/fuzz/corpus/$$t fuzz/fuzz_$$t/seeds \
	    -dict=build/fuzz/fuzz/dicts/fuzz_$$t.dict -max_total_time=$(FUZZ_SECONDS) || exit 1; done

clean:
	rm -rf build
