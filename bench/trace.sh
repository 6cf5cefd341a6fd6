#!/usr/bin/env bash
# trace against traceroute and mtr on a path built here: client → r1 → r2 →
# server, four namespaces, /30 links, ICMP rate limits lifted in the
# routers. Two cases, median wall time of ROUNDS each:
#   silent  the server drops every probe (a firewalled host): 30 hops, -w 1;
#           traceroute waits window after window of 16 probes, sockit sends
#           all 90 at once and waits one timeout;
#   router  r2 never answers (its time-exceeded messages are dropped) and
#           the server does: every tool waits about one timeout for hop 2.
#
#   bench/trace.sh          # ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
ROUNDS=${ROUNDS:-3}
cargo build --release --quiet --bin sockit
S=$PWD/target/release/sockit
P=sockit-tb-$$
C=$P-c R1=$P-r1 R2=$P-r2 SV=$P-s
cleanup() { for ns in $C $R1 $R2 $SV; do ip netns del "$ns" 2>/dev/null || true; done; }
trap cleanup EXIT
for ns in $C $R1 $R2 $SV; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
done
for r in $R1 $R2; do ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1; done
link() { # link NS_A ADDR_A NS_B ADDR_B NAME
  ip link add "$5a" type veth peer name "$5b"
  ip link set "$5a" netns "$1"; ip link set "$5b" netns "$3"
  ip -n "$1" addr add "$2/30" dev "$5a"; ip -n "$3" addr add "$4/30" dev "$5b"
  ip -n "$1" link set "$5a" up; ip -n "$3" link set "$5b" up
}
link $C 10.251.0.1 $R1 10.251.0.2 tb$$x0
link $R1 10.251.0.5 $R2 10.251.0.6 tb$$x1
link $R2 10.251.0.9 $SV 10.251.0.10 tb$$x2
ip -n $C route add default via 10.251.0.2
ip -n $R1 route add 10.251.0.8/30 via 10.251.0.6
ip -n $R2 route add 10.251.0.0/30 via 10.251.0.5
ip -n $SV route add default via 10.251.0.9
ip netns exec $C ping -q -c 1 -W 2 10.251.0.10 >/dev/null

nft_in() { # nft_in NS RULE: a rule in NS's output chain
  ip netns exec "$1" nft add table inet b 2>/dev/null || true
  ip netns exec "$1" nft add chain inet b out '{ type filter hook output priority 0; }' 2>/dev/null || true
  ip netns exec "$1" nft add chain inet b in '{ type filter hook input priority 0; }' 2>/dev/null || true
  ip netns exec "$1" nft add rule inet b "$2"
}

measure() { # measure CASE: runs each tool ROUNDS times, prints medians
  local case=$1
  declare -A times
  local names=(sockit traceroute mtr)
  declare -A cmd=(
    [sockit]="ip netns exec $C $S trace -n -w 1 10.251.0.10"
    [traceroute]="ip netns exec $C traceroute -n -w 1 10.251.0.10"
    [mtr]="ip netns exec $C mtr -n --report -c 1 10.251.0.10"
  )
  for _ in $(seq "$ROUNDS"); do
    for name in "${names[@]}"; do
      times[$name]+="$(seconds "${cmd[$name]}") "
    done
  done
  python3 - "$case" "${times[sockit]}" "${times[traceroute]}" "${times[mtr]}" <<'PY'
import statistics, sys
case = sys.argv[1]
s, t, m = (statistics.median(map(float, a.split())) for a in sys.argv[2:])
for name, secs in [("sockit trace -n -w 1", s), ("traceroute -n -w 1", t), ("mtr -n --report -c 1", m)]:
    print(f"{case:<7} {name:<24} {secs:7.3f} s   this/traceroute {secs / t:5.2f}")
PY
}

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F); rounds: $ROUNDS"
# One silent router: r2's time-exceeded messages are dropped.
nft_in $R2 "out icmp type time-exceeded drop"
measure router
ip netns exec $R2 nft flush ruleset
# A firewalled destination: the server drops every probe.
nft_in $SV "in ip saddr 10.251.0.1 drop"
measure silent
