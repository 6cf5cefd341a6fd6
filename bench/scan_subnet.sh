#!/usr/bin/env bash
# Scanning a LAN, in namespaces this script creates: a scanner and six test
# hosts on one bridge, in a /24 whose other 249 addresses are silent, the
# kernel's default ICMP rate limits on every host.
#   TCP: the /24 x ports 1-1000, sockit scan against nmap -sT -T4, same run.
#   UDP: 50 ports of one host (3 answered, 47 closed), sockit scan -u
#        against nmap -sU -T4, with the floor the target's ICMP rate limit
#        sets (a burst of 6 answers, then one a second: 47 - 6 = 41 s).
#
#   bench/scan_subnet.sh        # ROUNDS=3 (TCP), UDP_ROUNDS=1
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
ROUNDS=${ROUNDS:-3}
UDP_ROUNDS=${UDP_ROUNDS:-1}
cargo build --release --quiet --bin sockit
S=$PWD/target/release/sockit
TAG=sb$$
P=10.250.7
NAMES=()
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  for ns in "${NAMES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
add_ns() { ip netns add "$1"; ip -n "$1" link set lo up; NAMES+=("$1"); }
add_ns "$TAG-w"
ip -n "$TAG-w" link add br0 type bridge
ip -n "$TAG-w" link set br0 up
join() { # join NS HOST-NUMBER
  local link=$TAG-l$2
  ip link add "${link}a" type veth peer name "${link}b"
  ip link set "${link}a" netns "$1"; ip link set "${link}b" netns "$TAG-w"
  ip -n "$TAG-w" link set "${link}b" master br0; ip -n "$TAG-w" link set "${link}b" up
  ip -n "$1" addr add "$P.$2/24" dev "${link}a"; ip -n "$1" link set "${link}a" up
}
add_ns "$TAG-s"; join "$TAG-s" 1
OPEN=("22 80" "443" "25 631" "1 999" "" "53")
for i in 0 1 2 3 4 5; do
  add_ns "$TAG-h$i"; join "$TAG-h$i" $((11 + i))
  for port in ${OPEN[$i]}; do
    ip netns exec "$TAG-h$i" "$S" listen -k 0.0.0.0 "$port" </dev/null >/dev/null 2>&1 &
    pids+=($!)
  done
done
# UDP: host 0 answers on 53, 123 and 7000; 47 more ports are closed.
ip netns exec "$TAG-h0" python3 -c '
import socket, threading, time
def serve(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port))
    while True:
        data, peer = s.recvfrom(4096); s.sendto(b"pong", peer)
for port in (53, 123, 7000):
    threading.Thread(target=serve, args=(port,), daemon=True).start()
time.sleep(100000)' &
pids+=($!)
sleep 1
OUT=$(mktemp)
in_scanner() { echo "ip netns exec $TAG-s $*"; }

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F)"
echo "TCP: $P.0/24 x ports 1-1000 (6 live hosts + the scanner, 249 silent addresses); $ROUNDS rounds, tools taking turns"
declare -A times
for round in $(seq "$ROUNDS"); do
  t=$(seconds "$(in_scanner "$S" scan --json $P.0/24 1-1000)" "$OUT")
  times[sockit]+="$t "
  n=$(grep -c '"open"' "$OUT" || true)
  [ "$n" = 8 ] || { echo "sockit found $n open ports, not 8:"; cat "$OUT"; exit 1; }
  t=$(seconds "$(in_scanner nmap -sT -T4 -n -p 1-1000 $P.0/24)" "$OUT")
  times[nmap]+="$t "
  n=$(grep -c '/tcp *open' "$OUT" || true)
  [ "$n" = 8 ] || { echo "nmap found $n open ports, not 8:"; cat "$OUT"; exit 1; }
  # nmap's host discovery alone, for where its time goes.
  t=$(seconds "$(in_scanner nmap -sn -T4 -n $P.0/24)" "$OUT")
  times[nmapsn]+="$t "
done
python3 - "${times[sockit]}" "${times[nmap]}" "${times[nmapsn]}" <<'PY'
import statistics, sys
s, n, d = (statistics.median(map(float, a.split())) for a in sys.argv[1:])
print(f"  sockit scan 10.250.7.0/24 1-1000         {s:6.3f} s")
print(f"  nmap -sT -T4 -n -p 1-1000 10.250.7.0/24  {n:6.3f} s   (sockit takes {s/n:.2f} of nmap's time)")
print(f"  nmap -sn -T4 (its discovery alone)       {d:6.3f} s")
PY

UDP_PORTS=53,123,7000-7047
echo "UDP: $P.11 ports $UDP_PORTS (3 answered, 47 closed; floor 41 s); $UDP_ROUNDS rounds"
# Each run starts with the target's ICMP bucket full again (6 s to refill).
for round in $(seq "$UDP_ROUNDS"); do
  sleep 7
  t=$(seconds "$(in_scanner "$S" scan -u -v $P.11 $UDP_PORTS)" "$OUT")
  grep -E 'udp|scanned' "$OUT" | sed 's/^/    /'
  times[usockit]+="$t "
  # Both the findings and the time: nmap may need its rate-limit back-off.
  for timing in T4 T3; do
    sleep 7
    t=$(seconds "$(in_scanner nmap -sU -$timing -n -p $UDP_PORTS -oG - $P.11)" "$OUT")
    closed=$(python3 -c '
import re, sys
text = open(sys.argv[1]).read()
listed = len(re.findall(r"/closed/", text))
ignored = sum(int(n) for n in re.findall(r"Ignored State: closed \((\d+)\)", text))
print(listed + ignored)' "$OUT")
    echo "    nmap -sU -$timing: $closed of the 47 closed ports reported closed"
    times[unmap$timing]+="$t "
  done
done
python3 - "${times[usockit]}" "${times[unmapT4]}" "${times[unmapT3]}" <<'PY'
import statistics, sys
s, n4, n3 = (statistics.median(map(float, a.split())) for a in sys.argv[1:])
print(f"  sockit scan -u 10.250.7.11 (50 ports)    {s:6.3f} s   ({s/41:.2f} of the 41 s floor)")
print(f"  nmap -sU -T4 (same ports)                {n4:6.3f} s   (sockit takes {s/n4:.2f} of nmap's time)")
print(f"  nmap -sU -T3 (its default)               {n3:6.3f} s   (sockit takes {s/n3:.2f} of nmap's time)")
PY
rm -f "$OUT"
