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
# Prints executions, time and crashes per target; a crash stops its target and leaves the input
# in fuzz/artifacts/TARGET/ (reproduce: cargo fuzz run TARGET FILE). Exits 1 if any crashed.
#
# Not part of scripts/test.sh. Installs cargo-fuzz if missing. Only stable Rust is needed:
# cargo-fuzz passes nightly flags (-Z...) to cargo and rustc, which RUSTC_BOOTSTRAP=1 allows.
# FUZZ_SANITIZER=address builds with AddressSanitizer (about 2-3x slower); the default is none,
# since the code fuzzed is safe Rust: panics, overflow checks (on) and debug assertions (on)
# are what a crash is here.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-10000000}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(check_source gate_check gate_send crontab draft_yaml)
sanitizer=${FUZZ_SANITIZER:-none}
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "== installing cargo-fuzz" >&2
  nice -n 19 cargo install cargo-fuzz --locked
fi

cd fuzz
echo "== building the fuzz targets (sanitizer: $sanitizer)" >&2
if [ ${#targets[@]} -eq 1 ]; then
  nice -n 19 cargo fuzz build -s "$sanitizer" "${targets[0]}"
else
  nice -n 19 cargo fuzz build -s "$sanitizer"
fi

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

summary=()
failed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="artifacts/$t/last-run.log"
  marker=$(mktemp)
  start=$(date +%s.%N)
  # shellcheck disable=SC2046 # seeds and dict are lists of words
  if nice -n 19 cargo fuzz run -s "$sanitizer" "$t" "corpus/$t" $(seeds "$t") -- \
    -runs="$runs" -timeout=30 -print_final_stats=1 $(dict "$t") >"$log" 2>&1; then
    rc=0
  else
    rc=$?
  fi
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  # The final stats come last; should they be missing, the DONE line counts the runs too.
  [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE .*/\1/p' "$log" | tail -n 1)
  crashes=$(find "artifacts/$t" -newer "$marker" -type f ! -name last-run.log | wc -l)
  rm -f "$marker"
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes="?"; fi
  line=$(printf '%-13s %12s executions %7s s %9s exec/s %4s crashes   corpus %s' "$t" "${execs:-?}" \
    "$secs" "$(awk -v n="${execs:-0}" -v s="$secs" 'BEGIN { printf "%.0f", s ? n / s : 0 }')" \
    "$crashes" "$(find "corpus/$t" -type f | wc -l)")
  echo "$line"
  summary+=("$line")
  if [ "$rc" -ne 0 ]; then
    failed=1
    echo "   $t failed (exit $rc); the log is fuzz/$log:" >&2
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -n 20 | sed 's/^/   /' >&2
  fi
done

echo
echo "summary ($runs runs per target, sanitizer $sanitizer, $(nproc) cores shared):"
printf '  %s\n' "${summary[@]}"
exit $failed
