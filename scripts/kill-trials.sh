#!/usr/bin/env bash
# Durability under kill -9: is every decision the gate acknowledged in the audit log after the
# server is killed without warning, and is the chain still whole?
#
#   scripts/kill-trials.sh [TRIALS] [BACKENDS]     (default 20 trials, "sqlite postgres")
#
# Each trial: a fresh database (a SQLite file, or a new database on a private PostgreSQL on
# 127.0.0.1:54329, started as scripts/test.sh starts it if none is running); one gate_client
# token; the release `accord serve` with the sample agreements; concurrent
# `POST /api/v1/flows/check` on keep-alive connections (scripts/kill-load.py) recording the
# decision_id of every HTTP 200; `kill -9` of the server at a random moment 1-3 s into the load;
# then the acknowledged ids are looked up in `audit_log.id` (the decision's id is its audit
# record's id) directly in the database, and `accord audit verify` checks the chain.
# Prints each trial and the totals; exits 1 if any acknowledged decision was lost or any chain
# failed to verify. Loopback only. Builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-20}
backends=${2:-sqlite postgres}
connections=${KILL_CONNECTIONS:-32}

log() { printf '== %s\n' "$*" >&2; }

# As scripts/test.sh: a private cluster on loopback, trusted local connections.
start_postgres() {
  if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    log "installing PostgreSQL (Debian package)"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  local data=${ACCORD_TEST_PG_DIR:-/tmp/accord-test-pg}
  pgport=${ACCORD_TEST_PG_PORT:-54329}
  local as_pg=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home /nonexistent postgres
    as_pg=(runuser -u postgres --)
  fi
  if ! "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pgport"; then
    log "starting PostgreSQL on 127.0.0.1:$pgport ($data)"
    rm -rf "$data" && mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres "$data"
    "${as_pg[@]}" "$pgbin/initdb" -D "$data" -U accord --auth=trust >/dev/null
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $pgport -k $data -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
  fi
}
psql_at() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pgport" -U accord -d "$1" -Atc "$2"; }

command -v python3 >/dev/null || { log "python3 is needed for the load (scripts/kill-load.py)"; exit 2; }
[[ " $backends " == *" sqlite "* ]] && ! command -v sqlite3 >/dev/null && {
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq sqlite3 >/dev/null
}
[[ " $backends " == *" postgres "* ]] && start_postgres
log "building the release binary"
cargo build --release --quiet
accord=$PWD/target/release/accord

work=$(mktemp -d)
server=""
pgdb=""
cleanup() {
  [ -n "$server" ] && kill -9 "$server" 2>/dev/null || true
  [ -n "$pgdb" ] && psql_at postgres "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# One trial on backend $1, number $2; prints its line and appends "acked found chain_ok" to
# $work/totals.$1.
trial() {
  local backend=$1 n=$2 dir="$work/$1-$2" db
  mkdir -p "$dir"
  if [ "$backend" = sqlite ]; then
    db="sqlite://$dir/accord.db?mode=rwc"
  else
    pgdb="accord_kill_$$_$n"
    psql_at postgres "CREATE DATABASE $pgdb"
    db="postgres://accord@127.0.0.1:$pgport/$pgdb"
  fi
  local token
  token=$("$accord" token create --role gate_client --name kill-trial --party camden --force \
    --database "$db" 2>"$dir/token.log")
  "$accord" serve --listen 127.0.0.1:0 --database "$db" --agreements agreements \
    --outbox "$dir/outbox" >"$dir/out" 2>"$dir/log" &
  server=$!
  for _ in $(seq 200); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.05; done
  local base
  base=$(sed -n 's/^accord listening on //p' "$dir/out")
  [ -n "$base" ] || { log "serve did not start:"; cat "$dir/log" >&2; exit 2; }

  python3 scripts/kill-load.py "$base" "$token" "$dir/acked" \
    --connections "$connections" --seconds 8 >"$dir/load" &
  local loader=$! delay
  delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", 1 + 2 * r / 32767 }')
  sleep "$delay"
  kill -9 "$server"
  wait "$server" 2>/dev/null || true
  server=""
  wait "$loader"

  # The acknowledged ids, and the decision ids stored, both as 32 lowercase hex digits.
  tr -d '-' <"$dir/acked" | sort -u >"$dir/acked.hex"
  if [ "$backend" = sqlite ]; then
    sqlite3 "$dir/accord.db" "SELECT CASE typeof(id) WHEN 'blob' THEN lower(hex(id))
      ELSE lower(replace(id, '-', '')) END FROM audit_log" | sort -u >"$dir/stored.hex"
  else
    psql_at "$pgdb" "SELECT replace(id::text, '-', '') FROM audit_log" | sort -u >"$dir/stored.hex"
  fi
  local acked found lost chain
  acked=$(wc -l <"$dir/acked.hex")
  found=$(comm -12 "$dir/acked.hex" "$dir/stored.hex" | wc -l)
  lost=$((acked - found))
  if "$accord" audit verify --database "$db" >"$dir/verify" 2>&1; then chain=ok; else chain=FAILED; fi
  local records
  records=$(sed -n 's/.*verified: \([0-9]*\) records.*/\1/p' "$dir/verify")
  printf '%-8s %5s %8ss %12s %10s %6s %10s %6s   %s\n' "$backend" "$n" "$delay" "$acked" "$found" \
    "$lost" "${records:--}" "$chain" "$(cat "$dir/load")"
  [ "$chain" = ok ] || sed 's/^/    /' "$dir/verify"
  echo "$acked $found $([ "$chain" = ok ] && echo 1 || echo 0)" >>"$work/totals.$backend"
  if [ "$backend" = postgres ]; then
    psql_at postgres "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)"
    pgdb=""
  fi
  rm -rf "$dir"
}

printf '%-8s %5s %9s %12s %10s %6s %10s %6s   %s\n' backend trial "kill at" acknowledged found \
  lost "audit rows" chain "load"
for backend in $backends; do
  for n in $(seq "$trials"); do trial "$backend" "$n"; done
done

echo
status=0
for backend in $backends; do
  read -r acked found ok < <(awk '{a += $1; f += $2; o += $3} END {print a, f, o}' "$work/totals.$backend")
  lost=$((acked - found))
  echo "total $backend: $trials trials, acknowledged $acked, found $found, lost $lost, chain ok in $ok of $trials"
  [ "$lost" -eq 0 ] && [ "$ok" -eq "$trials" ] || status=1
done
exit $status
