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

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

clean:
	rm -rf build
