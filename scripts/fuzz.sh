#!/usr/bin/env bash
# Fuzzes the client protocol decoders with libFuzzer (see Fuzz/README.md).
#
#   scripts/fuzz.sh [SECONDS] [TARGET]
#
# SECONDS (default 60) is per target; TARGET is frame-stream, client-message or all (default:
# each in turn, one fuzzer process at a time). Builds the fuzz package (its own Fuzz/.build, a
# release build with the fuzzer and address sanitizers), fuzzes from a working copy of the seed
# corpus and of the kept crash inputs (Fuzz/.build/fuzz-work/TARGET, reused between runs, so the
# committed corpus is never written to), prints each target's executions, and copies any crash,
# timeout or out-of-memory input to Tests/Fixtures/fuzz-regressions/TARGET/, where the normal
# test suite (FuzzRegressionTests) replays it. Exits 1 if anything was found.
# Not part of scripts/test.sh: it is meant to run for minutes to hours.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
target=${2:-all}
case "$target" in
  all) targets=(frame-stream client-message) ;;
  frame-stream|client-message) targets=("$target") ;;
  *) echo "unknown target '$target' (frame-stream, client-message or all)" >&2; exit 2 ;;
esac

# `--sanitize` given twice reaches swiftc as two `-sanitize=` flags, of which swiftc keeps only
# the last: without the combined flag the Swift code gets no coverage instrumentation at all
# (only the C shims do) and libFuzzer mutates blind. lld is needed for the coverage sections.
flags=(--package-path "$root/Fuzz" -c release --sanitize=fuzzer --sanitize=address
       -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
echo "building the fuzz targets (release, fuzzer + address sanitizers)..."
mkdir -p "$root/Fuzz/.build"
if ! swift build "${flags[@]}" >"$root/Fuzz/.build/fuzz-build.log" 2>&1; then
  grep -E "error" "$root/Fuzz/.build/fuzz-build.log" | head -20 >&2
  echo "the fuzz build failed; full log: Fuzz/.build/fuzz-build.log" >&2
  exit 2
fi
bin=$(swift build "${flags[@]}" --show-bin-path 2>/dev/null)

executable() {
  case "$1" in
    frame-stream) echo FuzzFrameStream ;;
    client-message) echo FuzzClientMessage ;;
  esac
}

found=0
for t in "${targets[@]}"; do
  work="$root/Fuzz/.build/fuzz-work/$t"
  mkdir -p "$work/corpus" "$work/artifacts"
  rm -f "$work/artifacts/"*
  cp "$root/Fuzz/Corpus/$t/"* "$work/corpus/"
  kept="$root/Tests/Fixtures/fuzz-regressions/$t"
  if [ -d "$kept" ]; then find "$kept" -maxdepth 1 -type f ! -name '.*' ! -name '*.md' -exec cp {} "$work/corpus/" \; ; fi

  echo "fuzzing $t for $seconds s (corpus: $(ls "$work/corpus" | wc -l) inputs)..."
  status=0
  start=$(date +%s)
  # The backtracer would hold a crashing run open: libFuzzer reports crashes itself.
  SWIFT_BACKTRACE=enable=no "$bin/$(executable "$t")" \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" >"$work/fuzz.log" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - start ))

  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
  if [ -z "$runs" ]; then  # a crash ends the run before the final stats: take the last status line
    runs=$(grep -oE '^#[0-9]+' "$work/fuzz.log" | tail -1 | tr -d '#' || true)
  fi
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -1)
  coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$work/fuzz.log" | tail -1 || true)

  crashes=("$work/artifacts/"*)
  if [ -e "${crashes[0]}" ]; then
    found=1
    mkdir -p "$kept"
    cp "${crashes[@]}" "$kept/"
    echo "$t: FOUND $(ls "$work/artifacts" | wc -l) input(s) after ${runs:-?} executions, copied to ${kept#"$root"/}:"
    ls "$work/artifacts" | sed 's/^/  /'
    grep -E "Fatal error|ERROR: |SUMMARY" "$work/fuzz.log" | head -5 | sed 's/^/  /' || true
    echo "  full log: $work/fuzz.log"
  elif [ "$status" -ne 0 ]; then
    found=1
    echo "$t: libFuzzer exited $status without an artifact; see $work/fuzz.log"
  else
    echo "$t: ${runs:-?} executions in ${elapsed} s (${rate:-?}/s), no crash; ${coverage:-no coverage line}"
  fi
done
exit "$found"
