#!/usr/bin/env bash
# Echo servers under many concurrent connections, in one run:
#   sockit listen -k --echo                        at CONNS (10,000) and PEER_CONNS
#   Tokio's echo example (examples/tokio_echo.rs)  at CONNS: the reference
#   socat TCP-LISTEN:...,fork EXEC:/bin/cat        at PEER_CONNS
#   ncat -k --max-conns N --exec /bin/cat          at PEER_CONNS
# Against Tokio's example the rate swings by a third from run to run on this
# machine, so that pair also plays REF_ROUNDS (5) alternating rounds, and the
# median of the per-round ratios is printed last.
# The peers fork one or two processes per client, so they run at PEER_CONNS
# (1,000 by default) rather than 10,000, which would mean 20,000 processes.
# The load generator (examples/loadgen.rs) holds all connections open, then
# plays ping-pong with 64-byte messages on every one for SECS seconds.
#
#   bench/echo_load.sh
#   CONNS=2000 PEER_CONNS=200 SECS=3 bench/echo_load.sh
#
# Needs: socat, ncat, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
CONNS=${CONNS:-10000}
PEER_CONNS=${PEER_CONNS:-1000}
SECS=${SECS:-5}
REF_ROUNDS=${REF_ROUNDS:-5}
cargo build --release --quiet --bin sockit --example loadgen --example tokio_echo
SOCKIT=$PWD/target/release/sockit
LOADGEN=$PWD/target/release/examples/loadgen
TOKIO_ECHO=$PWD/target/release/examples/tokio_echo
ulimit -n "$(ulimit -Hn)"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT


run() { # label conns server-command-with-PORT
  local label=$1 conns=$2 cmd=$3 port pid
  port=$(free_port)
  ${cmd//PORT/$port} < /dev/null > /dev/null 2>&1 &
  pid=$!
  wait_listen "$port"
  printf '%-26s ' "$label"
  "$LOADGEN" "127.0.0.1:$port" --conns "$conns" --secs "$SECS" --size 64 --pid "$pid"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pkill -P "$pid" 2>/dev/null || true
  sleep 1 # let TIME_WAIT sockets and forked children go
}

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F); $SECS s of ping-pong, 64-byte messages"
run "sockit -k --echo" "$CONNS" "$SOCKIT listen -k --echo 127.0.0.1 PORT"
run "sockit -k --echo" "$PEER_CONNS" "$SOCKIT listen -k --echo 127.0.0.1 PORT"
run "socat fork EXEC:cat" "$PEER_CONNS" "socat TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr,fork,backlog=4096 EXEC:/bin/cat"
run "ncat -k --exec /bin/cat" "$PEER_CONNS" "ncat -k --max-conns $PEER_CONNS -l 127.0.0.1 PORT --exec /bin/cat"

rate() { sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p'; }
ratios=()
for round in $(seq "$REF_ROUNDS"); do
  line=$(run "sockit -k --echo" "$CONNS" "$SOCKIT listen -k --echo 127.0.0.1 PORT")
  echo "$line"
  s=$(echo "$line" | rate)
  line=$(run "tokio echo example" "$CONNS" "$TOKIO_ECHO 127.0.0.1:PORT")
  echo "$line"
  t=$(echo "$line" | rate)
  ratios+=("$(python3 -c "print(f'{$s / $t:.3f}')")")
done
python3 - "$CONNS" "${ratios[@]}" <<'PY'
import statistics, sys
conns, ratios = sys.argv[1], [float(r) for r in sys.argv[2:]]
print(f"sockit/tokio-example msgs/s at {conns} conns, per round: {' '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}")
PY
