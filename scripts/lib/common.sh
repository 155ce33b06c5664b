# Sourced by the interop and benchmark scripts, from the repository root:
# a work directory removed on exit (KEEP_WORK=1 keeps it and says where),
# the background processes listed in `pids` stopped on exit, and fail/pass.
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
