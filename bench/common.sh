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

# work_dir NAME: WORK, a directory in /dev/shm removed at exit (with the
# script's background jobs).
work_dir() {
  WORK=$(mktemp -d "/dev/shm/sockit-$1-XXXX")
  trap 'rm -rf "$WORK"; kill $(jobs -p) 2>/dev/null || true; pkill -f "$WORK/" 2>/dev/null || true' EXIT
}

# payload_in_shm NAME: work_dir NAME, and FILE in it: SIZE_MB MiB of random
# bytes, BYTES long.
payload_in_shm() {
  work_dir "$1"
  FILE=$WORK/data
  BYTES=$((SIZE_MB << 20))
  head -c "$BYTES" /dev/urandom > "$FILE"
}

# start_proxy NAME PORT: runs the proxy NAME (sockit, microsocks, dante,
# tinyproxy, fast-socks5: the crate's server, examples/fast_socks5_server.rs)
# on 127.0.0.1 PORT in the foreground, each in its usual configuration,
# without logging; its files go in WORK, SOCKIT is ours.
# Run it in the background (`start_proxy NAME PORT &`): the job then is the
# proxy itself (exec), so `$!` is its process.
start_proxy() {
  case $1 in
    sockit) exec "$SOCKIT" proxy 127.0.0.1 "$2" ;;
    microsocks) exec microsocks -i 127.0.0.1 -p "$2" ;;
    fast-socks5) exec "$PWD/target/release/examples/fast_socks5_server" "127.0.0.1:$2" ;;
    dante)
      cat > "$WORK/danted.conf" <<CONF
logoutput: /dev/null
internal: 127.0.0.1 port = $2
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
CONF
      exec danted -f "$WORK/danted.conf" ;;
    tinyproxy)
      printf 'Port %s\nListen 127.0.0.1\nAllow 127.0.0.1\nMaxClients %s\nLogLevel Critical\n' "$2" "${TINYPROXY_CLIENTS:-100}" > "$WORK/tinyproxy.conf"
      exec tinyproxy -d -c "$WORK/tinyproxy.conf" ;;
  esac
}

