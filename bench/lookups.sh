#!/usr/bin/env bash
# Each lookup is a whole process: wall time per run of sockit, getent (or the
# classic tool: hostname, ip addr; for `ip` there is no classic tool here, so
# /bin/true shows the cost of starting any process) and python3 -c for the
# same query, N runs each, in one run.
#
#   bench/lookups.sh          # N=200
#   N=50 bench/lookups.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200}
cargo build --release --quiet --bin sockit
S=$PWD/target/release/sockit

# Milliseconds per run of a command line (output discarded): the mean wall
# time from `perf stat -r N` (Debian package linux-perf) where it works, else
# a shell loop, whose fork/exec overhead is the same for every tool.
per_run() {
  local start end secs
  if secs=$(sh -c "perf stat -r $N $1" 2>&1 >/dev/null | sed -n 's/^ *\([0-9.]*\) +- .* seconds time elapsed.*/\1/p') && [ -n "$secs" ]; then
    python3 -c "print(f'{$secs * 1000:.2f}')"
    return
  fi
  start=$(date +%s%N)
  for _ in $(seq "$N"); do eval "$1" > /dev/null 2>&1 || true; done
  end=$(date +%s%N)
  python3 -c "print(f'{($end - $start) / $N / 1e6:.2f}')"
}

# Machine load drifts over seconds, so the three commands take turns: ROUNDS
# rounds of N/ROUNDS runs each, and the median round counts.
ROUNDS=${ROUNDS:-5}
row() { # query sockit-cmd classic-cmd python-cmd
  local s=() c=() p=() n=$((N / ROUNDS))
  for _ in $(seq "$ROUNDS"); do
    s+=("$(N=$n per_run "$2")"); c+=("$(N=$n per_run "$3")"); p+=("$(N=$((n / 4 + 1)) per_run "$4")")
  done
  python3 - "$1" "${s[*]}" "${c[*]}" "${p[*]}" <<'PY'
import statistics, sys
name = sys.argv[1]
s, c, p = (statistics.median(map(float, a.split())) for a in sys.argv[2:])
print(f"{name:<22} sockit {s:6.2f} ms   classic {c:6.2f} ms (classic/sockit {c/s:4.2f})   python3 {p:6.2f} ms (python3/sockit {p/s:5.1f})")
PY
}

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%F); $N runs each, ms per run"
row "hostname" "$S hostname" "hostname" "python3 -c 'import socket; print(socket.gethostname())'"
row "resolve localhost" "$S resolve localhost" "getent ahosts localhost" \
  "python3 -c 'import socket; print(socket.getaddrinfo(\"localhost\", None))'"
row "reverse 127.0.0.1" "$S reverse 127.0.0.1" "getent hosts 127.0.0.1" \
  "python3 -c 'import socket; print(socket.gethostbyaddr(\"127.0.0.1\"))'"
row "service http" "$S service http" "getent services http" \
  "python3 -c 'import socket; print(socket.getservbyname(\"http\"))'"
row "service 443/tcp" "$S service --proto tcp 443" "getent services 443/tcp" \
  "python3 -c 'import socket; print(socket.getservbyport(443, \"tcp\"))'"
row "ip 192.168.1.10/24" "$S ip 192.168.1.10/24" "/bin/true" \
  "python3 -c 'import ipaddress; n = ipaddress.ip_interface(\"192.168.1.10/24\").network; print(n, n.netmask, n.broadcast_address)'"
row "ifaces" "$S ifaces" "ip addr" "python3 -c 'import socket; print(socket.if_nameindex())'"
