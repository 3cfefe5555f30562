#!/bin/bash -eu
# Builds every cargo-fuzz target of fuzz/ into $OUT, with each one's libFuzzer dictionary and
# options: the build script of ClusterFuzzLite (this directory) and of OSS-Fuzz
# (fuzz/oss-fuzz/build.sh calls it). Locally, with a nightly toolchain and cargo-fuzz:
#   SRC=/path/to/parent-of-lockstep OUT=/tmp/out bash .clusterfuzzlite/build.sh
# ($SRC/lockstep is the repository; without $SRC this script finds it from its own path.)
# The OSS-Fuzz images pin a nightly in RUSTUP_TOOLCHAIN and set the sanitizer flags for
# `cargo fuzz build`; elsewhere the toolchain is `nightly` and cargo-fuzz's default
# (AddressSanitizer) applies.
repo=${SRC:+$SRC/lockstep}
if [ ! -f "${repo:-/nonexistent}/fuzz/Cargo.toml" ]; then
  repo=$(cd "$(dirname "$0")/.." && pwd)
fi
: "${OUT:?set OUT to the directory that receives the fuzzers}"
export RUSTUP_TOOLCHAIN=${RUSTUP_TOOLCHAIN:-nightly}
cd "$repo"
cargo fuzz build -O --debug-assertions
release=fuzz/target/x86_64-unknown-linux-gnu/release
mkdir -p "$OUT"
for target in $(cargo fuzz list); do
  cp "$release/$target" "$OUT/"
done
# The loader targets read the .lsb format: they get its dictionary (generated from the
# instruction table; `cargo test -p lockstep-spec --test fuzz_dict` keeps it current).
for target in loader loader_structured roundtrip; do
  cp fuzz/loader.dict "$OUT/$target.dict"
done
# The reference interpreter never frees cyclic garbage (reference/src/value.rs), which
# LeakSanitizer would report as a leak on the first cycle: see fuzz/run.
for target in differential differential_jit differential_threads; do
  printf '[libfuzzer]\ndetect_leaks=0\n' > "$OUT/$target.options"
done
