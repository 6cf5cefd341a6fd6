#!/usr/bin/env bash
# TLS sessions per second against echo servers, in one run: each session a
# new TCP connection, a full handshake (no resumption), 64 bytes echoed and
# the close, CONCURRENCY (64) at a time for SECS (5) seconds, from one client
# (examples/tls_handshakes.rs, sockit's library) for every server:
#   sockit listen -k --tls --echo
#   ncat --ssl -l -k --exec /bin/cat
#   socat OPENSSL-LISTEN:...,fork PIPE    (backlog=1024: with its default of
#                                          5, SYNs are dropped and retried)
# All serve one RSA 2048 certificate made here. The client runs on the same
# two cores as the server, the same for all. 64 at a time keeps every server
# busy: at 8, ncat and socat spend ~45 ms of each session waiting (their
# session tickets, then the echo, meet Nagle and the client's delayed ACK)
# and their rate measures that wait, not their work.
#
#   bench/tls_handshakes.sh
#   SECS=3 CONCURRENCY=8 bench/tls_handshakes.sh
#
# Needs: socat, ncat, openssl (for the certificate), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
SECS=${SECS:-5}
CONCURRENCY=${CONCURRENCY:-64}
cargo build --release --quiet --bin sockit --example tls_handshakes
SOCKIT=$PWD/target/release/sockit
CLIENT=$PWD/target/release/examples/tls_handshakes
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; kill $(jobs -p) 2>/dev/null || true' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
cat "$WORK/cert.pem" "$WORK/key.pem" > "$WORK/both.pem"
PIN=sha256:$(openssl x509 -in "$WORK/cert.pem" -outform der | sha256sum | cut -d' ' -f1)

server() {
  case $1 in
    sockit) echo "$SOCKIT listen -k --tls --echo --cert $WORK/cert.pem --key $WORK/key.pem 127.0.0.1 PORT" ;;
    ncat) echo "ncat --ssl --ssl-cert $WORK/cert.pem --ssl-key $WORK/key.pem -l -k --exec /bin/cat 127.0.0.1 PORT" ;;
    socat) echo "socat OPENSSL-LISTEN:PORT,bind=127.0.0.1,reuseaddr,fork,backlog=1024,cert=$WORK/both.pem,verify=0 PIPE" ;;
  esac
}

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F)"
echo "TLS sessions (connect, full handshake, 64 B echo, close): $CONCURRENCY at a time for $SECS s"
declare -A rate=()
for tool in sockit ncat socat; do
  port=$(free_port)
  cmd=$(server "$tool")
  ${cmd//PORT/$port} < /dev/null > /dev/null 2>&1 &
  pid=$!
  wait_listen "$port"
  line=$("$CLIENT" "127.0.0.1:$port" --pin "$PIN" --secs "$SECS" --concurrency "$CONCURRENCY")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # socat's forked children outlive their parent for a moment.
  pkill -f "OPENSSL-LISTEN:$port" 2>/dev/null || true
  rate[$tool]=$(sed 's/.*rate=\([0-9]*\).*/\1/' <<<"$line")
  printf '%-8s %s\n' "$tool" "$line"
done
for tool in ncat socat; do
  python3 -c "print(f'sockit/$tool {${rate[sockit]} / max(${rate[$tool]}, 1):.1f}x')"
done
