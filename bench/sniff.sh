#!/usr/bin/env bash
# Decode throughput: one synthetic capture of PACKETS frames (default one
# million: TCP connections over IPv4 and IPv6, UDP, ICMP, ARP; written by
# examples/pcapgen.rs) read by sockit sniff -r, tshark -r and tcpdump -r (TZ=UTC,
# so that it does not convert every time stamp through the local zone) in
# the same run, output to /dev/null, names not resolved (-n). Median of ROUNDS.
#
#   bench/sniff.sh                 # PACKETS=1000000 ROUNDS=1
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
PACKETS=${PACKETS:-1000000}
ROUNDS=${ROUNDS:-1}
cargo build --release --quiet --bin sockit --example pcapgen
S=$PWD/target/release/sockit
FILE=$(mktemp --suffix=.pcap)
trap 'rm -f "$FILE"' EXIT
target/release/examples/pcapgen "$FILE" "$PACKETS"

declare -A times
names=(sockit "sockit --json" tshark tcpdump)
declare -A cmd=(
  [sockit]="$S sniff -r $FILE"
  ["sockit --json"]="$S sniff -r $FILE --json"
  [tshark]="tshark -n -r $FILE"
  [tcpdump]="env TZ=UTC tcpdump -n -r $FILE"
)
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F); $PACKETS packets ($(du -h "$FILE" | cut -f1)), $ROUNDS rounds"
for _ in $(seq "$ROUNDS"); do
  for name in "${names[@]}"; do
    times[$name]+="$(seconds "${cmd[$name]}") "
  done
done
python3 - "$PACKETS" "${times[sockit]}" "${times[sockit --json]}" "${times[tshark]}" "${times[tcpdump]}" <<'PY'
import statistics, sys
packets = int(sys.argv[1])
s, j, t, d = (statistics.median(map(float, a.split())) for a in sys.argv[2:])
for name, secs in [("sockit sniff -r", s), ("sockit sniff -r --json", j), ("tshark -n -r", t), ("tcpdump -n -r", d)]:
    print(f"{name:<24} {secs:8.3f} s  {packets / secs / 1000:8.0f} k packets/s   (tshark/this {t / secs:5.2f})")
PY
