#!/usr/bin/env bash
# Datagrams per second through UDP echo servers on loopback, in one run:
#   sockit listen -u --echo
#   socat UDP-LISTEN:PORT PIPE              (echoes the first peer only)
#   socat UDP-RECVFROM:PORT,fork PIPE       (a process per datagram)
# with 64- and 1400-byte datagrams. The load generator (examples/loadgen.rs
# --udp) uses one socket, since socat's UDP-LISTEN serves a single peer, and
# checks every echo. Two windows: 1 datagram in flight (ping-pong, where every
# server keeps boundaries) and WINDOW (32) in flight, where socat's PIPE
# merges queued datagrams into one: its column then counts echoed bytes in
# datagram units, and the merged echoes are reported as wrong.
#
#   bench/udp_echo.sh
#   SECS=2 bench/udp_echo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-5}
WINDOW=${WINDOW:-32}
cargo build --release --quiet --bin sockit --example loadgen
SOCKIT=$PWD/target/release/sockit
LOADGEN=$PWD/target/release/examples/loadgen
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_bound() {
  for _ in $(seq 300); do ss -Hlun "sport = :$1" | grep -q . && return 0; sleep 0.01; done
  echo "nothing bound to UDP $1" >&2; return 1
}

# Prints datagrams/s for one server command (PORT substituted).
rate() { # sockets size window command
  local port pid line
  port=$(free_port)
  ${4//PORT/$port} < /dev/null > /dev/null 2>&1 &
  pid=$!
  wait_bound "$port"
  line=$("$LOADGEN" "127.0.0.1:$port" --udp --conns "$1" --window "$3" --size "$2" --secs "$SECS")
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  pkill -P "$pid" 2>/dev/null || true
  echo "$line" >&2
  echo "$line" | sed -n 's/.*bytes_as_datagrams_per_s=\([0-9]*\).*/\1/p'
}

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F); $SECS s per server"
for size in 64 1400; do
  for window in 1 "$WINDOW"; do
    echo "--- $size-byte datagrams, $window in flight"
    s1=$(rate 1 "$size" "$window" "$SOCKIT listen -u --echo 127.0.0.1 PORT")
    so=$(rate 1 "$size" "$window" "socat UDP-LISTEN:PORT,bind=127.0.0.1 PIPE")
    sf=$(rate 1 "$size" "$window" "socat UDP-RECVFROM:PORT,bind=127.0.0.1,fork PIPE")
    python3 - "$s1" "$so" "$sf" <<'PY'
import sys
s1, so, sf = map(float, sys.argv[1:])
for name, r in [("sockit listen -u --echo", s1), ("socat UDP-LISTEN PIPE", so),
                ("socat UDP-RECVFROM,fork PIPE", sf)]:
    ratio = f"sockit/this {s1 / r:6.2f}x" if r else "no echoes"
    print(f"{name:<30} {r:10.0f} datagrams/s   {ratio}")
PY
  done
done
