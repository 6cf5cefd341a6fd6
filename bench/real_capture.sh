#!/usr/bin/env bash
# Makes a capture shaped like real traffic for bench/sniff.sh: two network
# namespaces joined by a veth pair (MTU 1500, segments cut to the MSS so the
# file holds wire-sized frames, not 64 KiB offload batches), and tcpdump on
# the client's end while it makes, DOWNLOADS times over, HTTP downloads of
# mixed sizes (512 B to 256 KiB, eight at a time, IPv4 and IPv6), DNS
# queries over UDP and TCP, TLS handshakes and pings. Every loop is bounded.
#
#   bench/real_capture.sh FILE [DOWNLOADS]     # default 2000 downloads
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$1
DOWNLOADS=${2:-2000}
SOCKIT=${SOCKIT:-$PWD/target/release/sockit}
C=sockit-cap-c-$$ S=sockit-cap-s-$$
DIR=$(mktemp -d /dev/shm/sockit-capture-XXXX)
cleanup() {
  ip netns pids "$S" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns pids "$C" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$C" 2>/dev/null || true
  ip netns del "$S" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT
ip netns add "$C"
ip netns add "$S"
ip link add vc$$ type veth peer name vs$$
ip link set vc$$ netns "$C"
ip link set vs$$ netns "$S"
for ns in "$C" "$S"; do ip -n "$ns" link set lo up; done
ip -n "$C" addr add 10.77.0.1/24 dev vc$$
ip -n "$S" addr add 10.77.0.2/24 dev vs$$
ip -n "$C" addr add fd77::1/64 dev vc$$ nodad
ip -n "$S" addr add fd77::2/64 dev vs$$ nodad
# One MSS per frame: no segmentation offload batches in the capture.
ip -n "$C" link set vc$$ mtu 1500 gso_max_segs 1 up
ip -n "$S" link set vs$$ mtu 1500 gso_max_segs 1 up

mkdir -p "$DIR/www"
for size in 512 4096 16384 65536 262144; do head -c "$size" /dev/urandom > "$DIR/www/f$size"; done
ip netns exec "$S" python3 -m http.server 80 --bind :: --directory "$DIR/www" >/dev/null 2>&1 &
ip netns exec "$S" python3 - <<'PY' &
import socket, struct, threading
def answer(q):
    i = 12
    while q[i] != 0:
        i += q[i] + 1
    record = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + socket.inet_aton("192.0.2.7")
    return q[:2] + b"\x81\x80" + struct.pack(">HHHH", 1, 1, 0, 0) + q[12:i + 5] + record
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("10.77.0.2", 53))
tcp = socket.socket(); tcp.bind(("10.77.0.2", 53)); tcp.listen(64)
def serve_tcp():
    while True:
        c, _ = tcp.accept()
        q = c.recv(2 + 512)[2:]
        r = answer(q)
        c.sendall(struct.pack(">H", len(r)) + r)
        c.close()
threading.Thread(target=serve_tcp, daemon=True).start()
while True:
    q, peer = udp.recvfrom(512)
    udp.sendto(answer(q), peer)
PY
ip netns exec "$S" "$SOCKIT" listen --tls -k --echo 0.0.0.0 443 >/dev/null 2>&1 &
for _ in $(seq 100); do
  ip netns exec "$C" curl -s -o /dev/null http://10.77.0.2/f512 && break
  sleep 0.05
done

ip netns exec "$C" tcpdump -i vc$$ -s 0 --immediate-mode -w "$OUT" 2>/dev/null &
TCPDUMP=$!
sleep 0.5

# Downloads: a list of URLs, sizes and address families mixed, eight at a time.
python3 - "$DOWNLOADS" > "$DIR/urls" <<'PY'
import random, sys
random.seed(7)
sizes = [512, 512, 4096, 4096, 16384, 65536, 262144]
for i in range(int(sys.argv[1])):
    host = "10.77.0.2" if i % 3 else "[fd77::2]"
    print(f"http://{host}/f{random.choice(sizes)}")
PY
ip netns exec "$C" xargs -P 8 -n 1 curl -s -o /dev/null < "$DIR/urls" &
DOWNLOADERS=$!
ip netns exec "$C" python3 - "$DOWNLOADS" <<'PY' &
import random, socket, struct, sys
random.seed(11)
def query(name, ident):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack(">HH", 1, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
for i in range(int(sys.argv[1])):
    name = f"host{random.randrange(1000)}.example.org"
    if i % 10 == 0:
        t = socket.create_connection(("10.77.0.2", 53), timeout=2)
        q = query(name, i & 0xffff)
        t.sendall(struct.pack(">H", len(q)) + q)
        t.recv(512)
        t.close()
    else:
        u.sendto(query(name, i & 0xffff), ("10.77.0.2", 53))
        u.recv(512)
PY
RESOLVER=$!
for i in $(seq $((DOWNLOADS / 20))); do
  ip netns exec "$C" openssl s_client -connect 10.77.0.2:443 -servername "site$i.example.org" \
    -alpn h2,http/1.1 </dev/null >/dev/null 2>&1 || true
done
ip netns exec "$C" ping -q -c $((DOWNLOADS / 10)) -i 0.002 10.77.0.2 >/dev/null
wait "$DOWNLOADERS" "$RESOLVER"
sleep 0.5
kill -INT "$TCPDUMP"
wait "$TCPDUMP" || true
