#!/usr/bin/env bash
# Fuzzing: each cargo-fuzz target in fuzz/ (a crate of its own, outside the main workspace) run
# by libFuzzer for RUNS executions, one target after another, at the lowest CPU priority.
#
#   scripts/fuzz.sh [RUNS] [TARGET...]     (default 10000000 executions; every target)
#
# Targets: check_source (agreement YAML), gate_check and gate_send (the gate's JSON bodies,
# then the decision and minimisation), crontab (the scheduler's crontab lines), draft_yaml (the
# agreement YAML an approved access request drafts, with arbitrary answers). Each corpus
# (fuzz/corpus/TARGET, kept between runs, not committed) is seeded from agreements/ and
# tests/fixtures/check/ (check_source) or fuzz/seeds/TARGET, with fuzz/dicts/ as dictionaries.
# Prints executions, time and crashes per target; a crash stops its worker (the others finish
# their share) and leaves the input in fuzz/artifacts/TARGET/ (reproduce: cargo fuzz run TARGET
# FILE). Exits 1 if any crashed.
#
# Not part of scripts/test.sh. Installs cargo-fuzz if missing. Only stable Rust is needed:
# cargo-fuzz passes nightly flags (-Z...) to cargo and rustc, which RUSTC_BOOTSTRAP=1 allows.
# FUZZ_SANITIZER=address builds with AddressSanitizer (about 2-3x slower); the default is none,
# since the code fuzzed is safe Rust: panics, overflow checks (on) and debug assertions (on)
# are what a crash is here. FUZZ_WORKERS=N runs N fuzzing processes per target over the same
# corpus, each for its share of RUNS (one per core; the default is 1). FUZZ_TRACE_COMPARES=0
# builds without libFuzzer's comparison tracing (cargo fuzz --no-trace-compares): the same
# target and assertions, more executions a second where comparisons dominate (draft_yaml's YAML
# emitter: 2,000 of its corpus inputs in 4.5 s rather than 13.7 s), but less guidance from
# comparison operands to new inputs, so use it on a corpus the default build has already grown.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-10000000}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(check_source gate_check gate_send crontab draft_yaml)
sanitizer=${FUZZ_SANITIZER:-none}
workers=${FUZZ_WORKERS:-1}
build_flags=(-s "$sanitizer")
[ "${FUZZ_TRACE_COMPARES:-1}" != 0 ] || build_flags+=(--no-trace-compares)
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "== installing cargo-fuzz" >&2
  nice -n 19 cargo install cargo-fuzz --locked
fi

cd fuzz
# Every target but crontab fuzzes the pure core (accord-core) alone; crontab needs the service.
features() { [ "$1" = crontab ] && echo "--features service"; true; }
echo "== building the fuzz targets (${build_flags[*]})" >&2
for t in "${targets[@]}"; do
  # shellcheck disable=SC2046 # features is a list of words
  nice -n 19 cargo fuzz build "${build_flags[@]}" $(features "$t") "$t"
done

seeds() {
  case $1 in
    check_source) echo "$root/agreements $root/tests/fixtures/check" ;;
    *) echo "$root/fuzz/seeds/$1" ;;
  esac
}
dict() {
  case $1 in
    gate_check | gate_send) echo "-dict=$root/fuzz/dicts/gate.dict" ;;
    crontab) echo "-dict=$root/fuzz/dicts/crontab.dict" ;;
  esac
}

# One libFuzzer process per worker, each running its share of RUNS over the shared corpus
# (libFuzzer reloads the corpus directory, so the workers learn from each other's finds).
run_worker() { # target, runs, log
  # shellcheck disable=SC2046 # features, seeds and dict are lists of words
  nice -n 19 cargo fuzz run "${build_flags[@]}" $(features "$1") "$1" "corpus/$1" $(seeds "$1") -- \
    -runs="$2" -timeout=30 -print_final_stats=1 $(dict "$1") >"$3" 2>&1
}

# How many files matching the find(1) tests given libFuzzer wrote for target $t since $marker.
# For a failure it writes crash-* (a panic, a broken assertion), timeout-*, oom-* or leak-*; a
# slow-unit-* (one run over 10 s of wall-clock time) is not a failure and is counted apart:
# replaying it (cargo fuzz run TARGET FILE) says whether the input is slow or the machine was.
found() { find "artifacts/$t" -newer "$marker" -type f \( "$@" \) | wc -l; }

summary=()
failed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  rm -f "artifacts/$t"/last-run*.log
  marker=$(mktemp)
  start=$(date +%s.%N)
  pids=()
  logs=()
  for ((w = 1; w <= workers; w++)); do
    share=$((runs / workers + (w <= runs % workers ? 1 : 0)))
    log="artifacts/$t/last-run.log"
    [ "$workers" -eq 1 ] || log="artifacts/$t/last-run-$w.log"
    logs+=("$log")
    run_worker "$t" "$share" "$log" &
    pids+=($!)
  done
  rc=0
  for pid in "${pids[@]}"; do
    wait "$pid" || rc=$?
  done
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
  execs=0
  for log in "${logs[@]}"; do
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    # The final stats come last; should they be missing, the DONE line counts the runs too.
    [ -n "$n" ] || n=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE .*/\1/p' "$log" | tail -n 1)
    if [ -n "$n" ] && [ "$execs" != "?" ]; then execs=$((execs + n)); else execs="?"; fi
  done
  crashes=$(found -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*')
  slow=$(found -name 'slow-unit-*')
  rm -f "$marker"
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes="?"; fi
  line=$(printf '%-13s %12s executions %7s s %9s exec/s %4s crashes %3s slow   corpus %s' "$t" \
    "$execs" "$secs" \
    "$(awk -v n="$execs" -v s="$secs" 'BEGIN { printf "%.0f", (s && n != "?") ? n / s : 0 }')" \
    "$crashes" "$slow" "$(find "corpus/$t" -type f | wc -l)")
  echo "$line"
  summary+=("$line")
  if [ "$rc" -ne 0 ]; then
    failed=1
    echo "   $t failed (exit $rc); the logs are in fuzz/artifacts/$t/:" >&2
    for log in "${logs[@]}"; do
      grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -n 20 | sed 's/^/   /' >&2
    done
  fi
done

echo
echo "summary ($runs runs per target in $workers worker(s), ${build_flags[*]}, $(nproc) cores):"
printf '  %s\n' "${summary[@]}"
exit $failed
