#!/usr/bin/env bash
# Drawing must not slow decoding: `sniff -r --ladder` against the plain
# per-packet summary on the synthetic million-packet capture of
# bench/sniff.sh (TCP connections, UDP queries, ICMP echoes, ARP), both to
# /dev/null; median wall time and peak RSS of each.
#
#   bench/ladder.sh          # PACKETS=1000000 ROUNDS=5
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
PACKETS=${PACKETS:-1000000}
ROUNDS=${ROUNDS:-5}
cargo build --release --quiet --bin sockit --example pcapgen
S=$PWD/target/release/sockit
work_dir ladder
target/release/examples/pcapgen "$WORK/synthetic.pcap" "$PACKETS" >/dev/null
export LANG=C.UTF-8 COLUMNS=100
declare -A times rss
for round in $(seq "$ROUNDS"); do
  for mode in plain ladder; do
    flag=""; [ "$mode" = ladder ] && flag="--ladder"
    out=$( { /usr/bin/time -f "%e %M" "$S" sniff $flag -r "$WORK/synthetic.pcap" >/dev/null; } 2>&1 )
    times[$mode]+="${out% *} "
    rss[$mode]=${out#* }
  done
done
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F); $PACKETS packets, $ROUNDS rounds"
python3 - "${times[plain]}" "${times[ladder]}" "${rss[plain]}" "${rss[ladder]}" <<'PY'
import statistics, sys
p, l = (statistics.median(map(float, a.split())) for a in sys.argv[1:3])
rp, rl = (int(x) // 1024 for x in sys.argv[3:5])
print(f"sockit sniff -r            {p:6.3f} s  {rp:4d} MiB")
print(f"sockit sniff -r --ladder   {l:6.3f} s  {rl:4d} MiB   ({l/p:.2f}x the plain summary's time)")
PY
