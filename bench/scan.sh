#!/usr/bin/env bash
# Full TCP connect scan of 127.0.0.1, ports 1-65535, inside a network
# namespace this script creates (its loopback holds only our listeners):
# sockit scan against nmap -sT -p- -T4 and nc -z, in the same run.
#
#   bench/scan.sh            # ROUNDS=5, median wall time of each tool
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
ROUNDS=${ROUNDS:-5}
cargo build --release --quiet --bin sockit
S=$PWD/target/release/sockit
NS=sockit-bench-scan-$$
OPEN="22 80 8080 40000 65535"

ip netns add "$NS"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; ip netns del "$NS"; }
trap cleanup EXIT
ip -n "$NS" link set lo up
for port in $OPEN; do
  ip netns exec "$NS" "$S" listen -k 127.0.0.1 "$port" </dev/null >/dev/null 2>&1 &
  pids+=($!)
done
sleep 0.5
OUT=$(mktemp)

declare -A times
tools=(sockit nmap nc)
declare -A cmd=(
  [sockit]="$S scan 127.0.0.1 -"
  [nmap]="nmap -sT -p- -T4 -n 127.0.0.1"
  [nc]="nc -z 127.0.0.1 1-65535"
)
# What each must find, checked on every round: the five listeners.
declare -A found=(
  [sockit]="grep -c '/tcp *open'"
  [nmap]="grep -c '/tcp *open'"
  [nc]="true"
)
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F); $ROUNDS rounds, tools taking turns"
for round in $(seq "$ROUNDS"); do
  for tool in "${tools[@]}"; do
    t=$(seconds "ip netns exec $NS ${cmd[$tool]}" "$OUT")
    times[$tool]+="$t "
    if [ "$tool" != nc ]; then
      n=$(sh -c "${found[$tool]}" <"$OUT" || true)
      [ "$n" = 5 ] || { echo "$tool found $n open ports, not 5:"; cat "$OUT"; exit 1; }
    fi
  done
done
rm -f "$OUT"
python3 - "${times[sockit]}" "${times[nmap]}" "${times[nc]}" <<'PY'
import statistics, sys
s, n, c = (statistics.median(map(float, a.split())) for a in sys.argv[1:])
print(f"sockit scan 127.0.0.1 -          {s:6.3f} s")
print(f"nmap -sT -p- -T4 -n 127.0.0.1    {n:6.3f} s   (sockit takes {s/n:.2f} of nmap's time)")
print(f"nc -z 127.0.0.1 1-65535          {c:6.3f} s   (sockit takes {s/c:.2f} of nc's time)")
PY
