#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for hvsim's fuzz targets
# (docs/fuzzing.md). Uses the engine's conventions: $CC and $CFLAGS compile
# everything (the models with the harnesses, so the engine sees their
# coverage), $LIB_FUZZING_ENGINE links each target, and $OUT receives
#   fuzz_<name>                    the target
#   fuzz_<name>.dict               its dictionary
#   fuzz_<name>_seed_corpus.zip    its seed corpus
# Needs CMake >= 3.25, zip, and hvsim's dependencies (Unicorn 2.1 via
# scripts/deps.sh, libcapstone-dev, libzydis-dev, libcmocka-dev).
# Locally: CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined,fuzzer-no-link" \
#          LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out fuzz/build.sh
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${WORK:-/tmp}/hvsim-fuzz-build
TARGETS="vmcs_dump vmcb_dump loader mmu_walk entry_checks decoder_xcheck hv_exits"

cmake -S "$SRC_DIR" -B "$BUILD_DIR" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_BUILD_TYPE=Release \
  -DHVSIM_FUZZ=ON -DHVSIM_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" \
  -DHVSIM_PARTS="sim/mmu;models/vmx;models/svm;sim;fuzz"
build_targets="fuzz_dicts"
for t in $TARGETS; do build_targets="$build_targets fuzz_$t"; done
# shellcheck disable=SC2086 # one argument per target
cmake --build "$BUILD_DIR" -j"$(nproc)" --target $build_targets

mkdir -p "$OUT"
for t in $TARGETS; do
  cp "$BUILD_DIR/fuzz/fuzz_$t" "$OUT/"
  cp "$BUILD_DIR/fuzz/dicts/fuzz_$t.dict" "$OUT/"
  rm -f "$OUT/fuzz_${t}_seed_corpus.zip"
  (cd "$SRC_DIR/fuzz/fuzz_$t/seeds" && zip -q -j "$OUT/fuzz_${t}_seed_corpus.zip" ./*)
done
