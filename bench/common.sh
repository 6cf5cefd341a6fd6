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
