#!/usr/bin/env bash
# TLS relay throughput over loopback: SIZE bytes from a file in /dev/shm
# through `X connect` (TLS client) to `X listen > /dev/null` (TLS server),
# for sockit, socat OPENSSL (default buffer and -b131072), ncat --ssl and the
# openssl s_client/s_server pair, in one run. Median of RUNS, GB/s and the
# ratio to sockit. All use one self-signed certificate (RSA 2048) made here;
# the clients skip chain verification (sockit pins the certificate), so the
# figures are the handshake plus bulk encryption.
#
# The timed runs write to /dev/null. One more run per tool, not timed,
# writes to a file and counts the bytes: a tool that lost data is flagged.
#
# The openssl pair needs care to move a file at all: s_client reads lines
# starting with Q or R from stdin as commands (-nocommands), -quiet implies
# -ign_eof (so -no_ign_eof, to end at EOF), and s_server drops the
# connection when its own stdin ends (so it reads a `sleep`). s_server never
# exits by itself, so its output goes through `head -c SIZE`, which ends the
# run when the last byte is out: one pipe more than the others pay.
#
#   bench/tls.sh                   # SIZE_MB=1024 RUNS=3
#   SIZE_MB=256 RUNS=5 bench/tls.sh
#
# Needs: socat, ncat, openssl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-3}
cargo build --release --quiet --bin sockit
SOCKIT=$PWD/target/release/sockit
payload_in_shm tls
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
cat "$WORK/cert.pem" "$WORK/key.pem" > "$WORK/both.pem"
PIN=sha256:$(openssl x509 -in "$WORK/cert.pem" -outform der | sha256sum | cut -d' ' -f1)


receiver() { # tool: a shell command line that prints what it receives
  case $1 in
    sockit) echo "$SOCKIT listen --tls --cert $WORK/cert.pem --key $WORK/key.pem 127.0.0.1 PORT" ;;
    socat) echo "socat -u OPENSSL-LISTEN:PORT,bind=127.0.0.1,reuseaddr,cert=$WORK/both.pem,verify=0 STDOUT" ;;
    socat-b128k) echo "socat -b131072 -u OPENSSL-LISTEN:PORT,bind=127.0.0.1,reuseaddr,cert=$WORK/both.pem,verify=0 STDOUT" ;;
    ncat) echo "ncat --ssl --ssl-cert $WORK/cert.pem --ssl-key $WORK/key.pem -l --recv-only 127.0.0.1 PORT" ;;
    openssl) echo "head -c $BYTES < <(sleep 600 | openssl s_server -quiet -naccept 1 -accept 127.0.0.1:PORT -cert $WORK/cert.pem -key $WORK/key.pem)" ;;
  esac
}
sender() {
  case $1 in
    sockit) echo "$SOCKIT connect --tls --pin $PIN localhost PORT" ;;
    socat) echo "socat -u STDIN OPENSSL:127.0.0.1:PORT,verify=0" ;;
    socat-b128k) echo "socat -b131072 -u STDIN OPENSSL:127.0.0.1:PORT,verify=0" ;;
    ncat) echo "ncat --ssl --send-only 127.0.0.1 PORT" ;;
    openssl) echo "openssl s_client -quiet -no_ign_eof -nocommands -connect 127.0.0.1:PORT" ;;
  esac
}

one_run() { # tool output: seconds from the sender's start to the receiver's end
  local port recv send start end
  port=$(free_port)
  recv=$(receiver "$1"); send=$(sender "$1")
  # Each side in a process group of its own, so that what outlives the
  # transfer (s_server and its sleep, s_client) can be ended as a group.
  setsid bash -c "exec 2>/dev/null; ${recv//PORT/$port}" < /dev/null > "$2" &
  local rpid=$!
  wait_listen "$port"
  start=$(date +%s.%N)
  setsid bash -c "${send//PORT/$port}" < "$FILE" > /dev/null 2>&1 &
  local spid=$!
  wait "$rpid" || true
  end=$(date +%s.%N)
  kill -- "-$rpid" "-$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  python3 -c "print($end - $start)"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

tools=(sockit socat socat-b128k ncat openssl)
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F)"
echo "TLS transfer: $SIZE_MB MiB over 127.0.0.1, file stdin, median of $RUNS runs, GB/s"
declare -A rate=()
for tool in "${tools[@]}"; do
  one_run "$tool" "$WORK/received" > /dev/null
  got=$(stat -c %s "$WORK/received")
  [ "$got" = "$BYTES" ] || echo "$((BYTES - got))" > "$WORK/lost.$tool"
  secs=$(for _ in $(seq "$RUNS"); do one_run "$tool" /dev/null; done | median)
  rate[$tool]=$(python3 -c "print($BYTES / $secs / 1e9)")
done
for tool in "${tools[@]}"; do
  lost=$(cat "$WORK/lost.$tool" 2>/dev/null || true)
  python3 -c "
r = ${rate[$tool]}; s = ${rate[sockit]}; lost = '$lost'.split()
note = f'   LOST DATA: {lost[0]} bytes missing in the checked run' if lost else ''
print(f'{\"$tool\":<14} {r:8.2f} GB/s   sockit/this {s/r:5.2f}x{note}')"
done
