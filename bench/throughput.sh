#!/usr/bin/env bash
# Bulk throughput over loopback: SIZE bytes from `X connect` (or its
# equivalent) to `X listen > /dev/null`, for sockit and its peers in one run,
# once with stdin a file in /dev/shm and once with stdin a pipe (cat file |).
# Prints GB/s (median of RUNS) per tool and the ratio to sockit; iperf3 -n is
# the ceiling (no files, no pipes).
#
#   bench/throughput.sh            # 2 GiB, 3 runs each
#   SIZE_MB=512 RUNS=1 bench/throughput.sh
#
# Needs: netcat-openbsd, socat, ncat, iperf3, python3 (apt-get install ...).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
SIZE_MB=${SIZE_MB:-2048}
RUNS=${RUNS:-3}
cargo build --release --quiet
SOCKIT=$PWD/target/release/sockit
FILE=/dev/shm/sockit-bench-$$
trap 'rm -f "$FILE"; kill $(jobs -p) 2>/dev/null || true' EXIT
head -c "$((SIZE_MB << 20))" /dev/urandom > "$FILE"
BYTES=$((SIZE_MB << 20))


# receiver and sender command lines per tool; PORT is substituted.
receiver() {
  case $1 in
    sockit) echo "$SOCKIT listen 127.0.0.1 PORT" ;;
    nc) echo "nc -l 127.0.0.1 PORT" ;;
    socat) echo "socat -u TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr STDOUT" ;;
    socat-b128k) echo "socat -b131072 -u TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr STDOUT" ;;
    ncat) echo "ncat -l --recv-only 127.0.0.1 PORT" ;;
  esac
}
sender() {
  case $1 in
    sockit) echo "$SOCKIT connect 127.0.0.1 PORT" ;;
    nc) echo "nc -N 127.0.0.1 PORT" ;;
    socat) echo "socat -u STDIN TCP:127.0.0.1:PORT" ;;
    socat-b128k) echo "socat -b131072 -u STDIN TCP:127.0.0.1:PORT" ;;
    ncat) echo "ncat --send-only 127.0.0.1 PORT" ;;
  esac
}

# One transfer; prints seconds from the sender's start to the receiver's exit.
one_run() { # tool mode
  local port recv send start end
  port=$(free_port)
  recv=$(receiver "$1"); send=$(sender "$1")
  ${recv//PORT/$port} < /dev/null > /dev/null &
  local rpid=$!
  wait_listen "$port"
  start=$(date +%s.%N)
  if [ "$2" = file ]; then
    ${send//PORT/$port} < "$FILE" > /dev/null
  else
    cat "$FILE" | ${send//PORT/$port} > /dev/null
  fi
  wait "$rpid"
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

iperf_ceiling() {
  local port; port=$(free_port)
  iperf3 -s -1 -B 127.0.0.1 -p "$port" > /dev/null & local spid=$!
  wait_listen "$port"
  iperf3 -c 127.0.0.1 -p "$port" -n "$((SIZE_MB))M" -J 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/8e9)'
  wait "$spid" 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F)"
echo "transfer: $SIZE_MB MiB over 127.0.0.1, median of $RUNS runs, GB/s (10^9 bytes/s)"
ceiling=$(for _ in $(seq "$RUNS"); do iperf_ceiling; done | median)
printf '%-14s %8.2f GB/s  (ceiling)\n' "iperf3 -n" "$ceiling"
for mode in file pipe; do
  echo "--- stdin: $mode"
  declare -A rate=()
  for tool in sockit nc socat socat-b128k ncat; do
    secs=$(for _ in $(seq "$RUNS"); do one_run "$tool" "$mode"; done | median)
    rate[$tool]=$(python3 -c "print($BYTES / $secs / 1e9)")
  done
  for tool in sockit nc socat socat-b128k ncat; do
    python3 -c "
r = ${rate[$tool]}; s = ${rate[sockit]}; c = $ceiling
print(f'{\"$tool\":<14} {r:8.2f} GB/s   sockit/this {s/r:5.2f}x   this/iperf3 {r/c:5.2f}')"
  done
  unset rate
done
