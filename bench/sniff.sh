#!/usr/bin/env bash
# Decode throughput, on two captures:
#   synthetic  PACKETS frames written by examples/pcapgen.rs (TCP over IPv4
#              and IPv6, DNS, ICMP, ARP; few distinct flows);
#   real       traffic made in two namespaces by bench/real_capture.sh
#              (DOWNLOADS HTTP downloads of mixed sizes, DNS over UDP and
#              TCP, TLS handshakes, pings) and captured by tcpdump.
# Each is read, output to /dev/null, by sockit sniff -r (text with the
# application layer decoded, as by default; --json; the same file as
# pcapng; with a filter expression that keeps every packet, so that only
# the filter's cost is added), by tcpdump -n -r (TZ=UTC, so that it does
# not convert every time stamp through the local zone; sockit's default
# time of day is local too, and is run with the same TZ) and by tshark -n -r.
# Median wall time of ROUNDS; peak RSS of sockit's runs (GNU time).
#
#   bench/sniff.sh          # PACKETS=1000000 DOWNLOADS=4000 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
PACKETS=${PACKETS:-1000000}
DOWNLOADS=${DOWNLOADS:-4000}
ROUNDS=${ROUNDS:-3}
cargo build --release --quiet --bin sockit --example pcapgen
S=$PWD/target/release/sockit
work_dir sniff
target/release/examples/pcapgen "$WORK/synthetic.pcap" "$PACKETS"
SOCKIT=$S bench/real_capture.sh "$WORK/real.pcap" "$DOWNLOADS"
export TZ=UTC
FILTER='ip or ip6 or arp'

run_capture() {
  local name=$1 file=$WORK/$1.pcap
  editcap -F pcapng "$file" "$WORK/$name.pcapng"
  local packets
  packets=$("$S" sniff -r "$file" -q -t | grep -c '^ *[0-9]' || true)
  declare -A times
  local labels=(sockit json pcapng filter tcpdump tshark)
  declare -A cmd=(
    [sockit]="$S sniff -r $file"
    [json]="$S sniff -r $file --json"
    [pcapng]="$S sniff -r $WORK/$name.pcapng"
    [filter]="$S sniff -r $file '$FILTER'"
    [tcpdump]="tcpdump -n -r $file"
    [tshark]="tshark -n -r $file"
  )
  for _ in $(seq "$ROUNDS"); do
    for label in "${labels[@]}"; do
      times[$label]+="$(seconds "${cmd[$label]}") "
    done
  done
  local rss
  rss=$( { /usr/bin/time -f %M "$S" sniff -r "$file" >/dev/null; } 2>&1 | tail -1)
  local rss_json
  rss_json=$( { /usr/bin/time -f %M "$S" sniff -r "$file" --json >/dev/null; } 2>&1 | tail -1)
  echo "== $name: $packets packets ($(du -h "$file" | cut -f1)), $ROUNDS rounds; peak RSS: text $((rss / 1024)) MiB, --json $((rss_json / 1024)) MiB"
  python3 - "$packets" "$FILTER" "${times[sockit]}" "${times[json]}" "${times[pcapng]}" "${times[filter]}" "${times[tcpdump]}" "${times[tshark]}" <<'PY'
import statistics, sys
packets, expression = int(sys.argv[1]), sys.argv[2]
s, j, ng, f, d, t = (statistics.median(map(float, a.split())) for a in sys.argv[3:])
rows = [
    ("sockit sniff -r", s), ("sockit sniff -r --json", j), ("sockit sniff -r (pcapng)", ng),
    (f"sockit sniff -r '{expression}'", f), ("tcpdump -n -r (TZ=UTC)", d), ("tshark -n -r", t),
]
for name, secs in rows:
    print(f"{name:<36} {secs:8.3f} s {packets / secs / 1000:8.0f} k packets/s   tcpdump/this {d / secs:5.2f}   tshark/this {t / secs:6.2f}")
print(f"pcapng/pcap {ng / s:.2f}; filter/none {f / s:.2f}")
PY
}

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F)"
run_capture synthetic
run_capture real
