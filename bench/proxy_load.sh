#!/usr/bin/env bash
# Many tunnels at once through proxies on loopback, in one run:
#   1. CONNS (1,000) tunnels to one echo server (`sockit listen -k --echo`),
#      each playing ping-pong with 64-byte messages for SECS seconds
#      (examples/loadgen.rs): round trips per second through the proxy, and
#      the proxy's own CPU time per round trip (its processes and threads,
#      from /proc), which says how much of the shared 2 cores it needed.
#      SOCKS5: sockit proxy, fast-socks5 (the crate's server), microsocks, dante; HTTP CONNECT: sockit proxy,
#      tinyproxy (MaxClients raised to CONNS, from its default 100).
#   2. IDLE tunnels held open and silent: the proxy's resident memory.
#      IDLE defaults to 9,900: this machine's hard limit of 20,000 open
#      files per process caps a proxy at 9,998 tunnels (two sockets each).
#
#   bench/proxy_load.sh
#   CONNS=500 SECS=3 IDLE=2000 bench/proxy_load.sh
#
# Needs: microsocks, tinyproxy, dante-server. Runs as root (danted wants to
# switch users).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
CONNS=${CONNS:-1000}
SECS=${SECS:-5}
IDLE=${IDLE:-9900}
export TINYPROXY_CLIENTS=$((CONNS > IDLE ? CONNS : IDLE))
cargo build --release --quiet --bin sockit --example loadgen --example fast_socks5_server
SOCKIT=$PWD/target/release/sockit
LOADGEN=$PWD/target/release/examples/loadgen
ulimit -n "$(ulimit -Hn)"
work_dir proxy-load

echo_port=$(free_port)
"$SOCKIT" listen -k --echo 127.0.0.1 "$echo_port" < /dev/null > /dev/null 2>&1 &
wait_listen "$echo_port"

through() { # proxy scheme conns secs: loadgen's line for that proxy
  local port pid
  port=$(free_port)
  start_proxy "$1" "$port" > /dev/null 2>&1 &
  pid=$!
  wait_listen "$port"
  local flag=--socks5
  [ "$2" = http ] && flag=--http-connect
  "$LOADGEN" "127.0.0.1:$echo_port" "$flag" "127.0.0.1:$port" --conns "$3" --secs "$4" --pid "$pid" || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pkill -f "$WORK/danted.conf" 2>/dev/null || true
  sleep 1 # let TIME_WAIT sockets and dante's children go
}

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F)"
echo "$CONNS tunnels, $SECS s of 64-byte ping-pong on each:"
declare -A rate=()
for entry in socks5:sockit socks5:fast-socks5 socks5:microsocks socks5:dante http:sockit http:tinyproxy; do
  line=$(through "${entry#*:}" "${entry%%:*}" "$CONNS" "$SECS")
  rate[$entry]=$(field msgs_per_s <<<"$line")
  printf '%-18s %s\n' "$entry" "$line"
done
for entry in socks5:fast-socks5 socks5:microsocks socks5:dante http:tinyproxy; do
  ours=${rate[${entry%%:*}:sockit]} theirs=${rate[$entry]}
  python3 -c "print(f'sockit/{\"$entry\"}: {$ours / max($theirs or 0, 1):.2f}x round trips per second')"
done
echo "$IDLE idle tunnels (resident memory of the proxy with all open):"
for entry in socks5:sockit socks5:fast-socks5 socks5:microsocks; do
  line=$(through "${entry#*:}" "${entry%%:*}" "$IDLE" 0)
  printf '%-18s connected=%s rss=%s KiB (%s MiB)\n' "$entry" "$(field connected <<<"$line")" \
    "$(field server_tree_rss_kib <<<"$line")" "$(( $(field server_tree_rss_kib <<<"$line") / 1024 ))"
done
