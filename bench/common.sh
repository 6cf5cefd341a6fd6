# Helpers shared by the benchmark scripts (sourced, not run).

# seconds CMD [OUT]: the wall time of one run of the command line CMD, in
# seconds; its output goes to OUT (default /dev/null).
seconds() {
  local start end
  start=$(date +%s%N)
  sh -c "$1" >"${2:-/dev/null}" 2>&1 || true
  end=$(date +%s%N)
  python3 -c "print(f'{($end - $start) / 1e9:.3f}')"
}

# A TCP port on 127.0.0.1 that was free a moment ago.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_listen PORT: waits (at most 3 s) until something listens on TCP PORT.
wait_listen() {
  for _ in $(seq 300); do ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.01; done
  echo "nothing listens on $1" >&2; return 1
}

# payload_in_shm NAME: WORK, a directory in /dev/shm removed at exit (with
# the script's background jobs), and FILE in it: SIZE_MB MiB of random
# bytes, BYTES long.
payload_in_shm() {
  WORK=$(mktemp -d "/dev/shm/sockit-$1-XXXX")
  trap 'rm -rf "$WORK"; kill $(jobs -p) 2>/dev/null || true' EXIT
  FILE=$WORK/data
  BYTES=$((SIZE_MB << 20))
  head -c "$BYTES" /dev/urandom > "$FILE"
}
