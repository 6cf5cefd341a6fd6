#!/usr/bin/env bash
# Tunnel throughput through proxies on loopback, in one run: SIZE bytes from
# a file in /dev/shm, `sockit connect --proxy URL` -> proxy -> `sockit
# listen > /dev/null`. The same client and receiver for every proxy:
#   SOCKS5:       sockit proxy, fast-socks5 (the crate's server), microsocks,
#                 dante (danted)
#   HTTP CONNECT: sockit proxy, tinyproxy
# Median of RUNS, GB/s, and the ratio of sockit proxy to each (same protocol).
# Every run's byte count at the receiver is checked; a proxy that lost data
# is flagged, its rate taken over the runs that did not.
#
#   bench/proxy.sh                 # SIZE_MB=1024 RUNS=3
#   SIZE_MB=256 RUNS=5 bench/proxy.sh
#
# Needs: microsocks, tinyproxy, dante-server, python3. Runs as root (danted
# wants to switch users).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-3}
cargo build --release --quiet --bin sockit --example fast_socks5_server
SOCKIT=$PWD/target/release/sockit
payload_in_shm proxy

one_run() { # scheme proxy-port: seconds, or FAIL
  local port start end got
  port=$(free_port)
  "$SOCKIT" listen 127.0.0.1 "$port" > "$WORK/received" 2>/dev/null &
  local rpid=$!
  wait_listen "$port"
  start=$(date +%s.%N)
  "$SOCKIT" connect --proxy "$1://127.0.0.1:$2" 127.0.0.1 "$port" < "$FILE" > /dev/null 2>&1 || true
  wait "$rpid" || true
  end=$(date +%s.%N)
  got=$(stat -c %s "$WORK/received")
  if [ "$got" != "$BYTES" ]; then echo FAIL; else python3 -c "print($end - $start)"; fi
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F)"
echo "tunnel throughput: $SIZE_MB MiB over 127.0.0.1, median of $RUNS runs, GB/s"
declare -A rate=()
for entry in socks5:sockit socks5:fast-socks5 socks5:microsocks socks5:dante http:sockit http:tinyproxy; do
  scheme=${entry%%:*} proxy=${entry#*:}
  pport=$(free_port)
  start_proxy "$proxy" "$pport" > /dev/null 2>&1 &
  ppid=$!
  wait_listen "$pport"
  results=$(for _ in $(seq "$RUNS"); do one_run "$scheme" "$pport"; done)
  kill "$ppid" 2>/dev/null || true
  wait "$ppid" 2>/dev/null || true
  pkill -f "$WORK/danted.conf" 2>/dev/null || true
  lost=$(grep -c FAIL <<<"$results" || true)
  [ "$lost" = 0 ] || echo "$lost" > "$WORK/lost.${entry/:/-}"
  secs=$( (grep -v FAIL <<<"$results" || true) | median)
  if [ -n "$secs" ]; then rate[$entry]=$(python3 -c "print($BYTES / $secs / 1e9)"); else rate[$entry]=0; fi
done
for entry in socks5:sockit socks5:fast-socks5 socks5:microsocks socks5:dante http:sockit http:tinyproxy; do
  scheme=${entry%%:*}
  lost=$(cat "$WORK/lost.${entry/:/-}" 2>/dev/null || echo 0)
  python3 -c "
r = ${rate[$entry]}; s = ${rate[$scheme:sockit]}; lost = $lost
note = f'   LOST DATA in {lost} of $RUNS runs (rate over the others)' if lost else ''
print(f'{\"$entry\":<18} {r:6.2f} GB/s   sockit/this {s / r if r else float(\"inf\"):5.2f}x{note}')"
done
