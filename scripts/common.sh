# Shell functions shared by the scripts in scripts/ (sourced, not run).
# Needs bash. Sets EMC_ROOT, the repository root.

EMC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EMC_LOG_DIR="$EMC_ROOT/build/logs"

emc_say() { printf '[emcluster] %s\n' "$*"; }
emc_warn() { printf '[emcluster] %s\n' "$*" >&2; }

# Parallel build jobs: EMCLUSTER_JOBS, else the number of cores.
emc_jobs() { echo "${EMCLUSTER_JOBS:-$(nproc 2>/dev/null || echo 2)}"; }

# emc_have_package PKG: is the Debian package installed?
emc_have_package() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# emc_ensure_packages PKG...: install the missing Debian packages when running as root,
# otherwise print the apt-get line that installs them and exit 1. Without dpkg (not Debian)
# it only warns: the tools must then come from elsewhere.
emc_ensure_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    emc_warn "no dpkg-query (not Debian?): make sure these or their equivalents are installed: $*"
    return 0
  fi
  local missing=() pkg
  for pkg in "$@"; do
    emc_have_package "$pkg" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    emc_say "installing missing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
  else
    emc_warn "missing Debian packages: ${missing[*]}. Install them with:"
    emc_warn "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
}

# emc_step NAME CMD...: runs CMD with its output in $EMC_LOG_DIR/NAME.log and prints one line
# with the outcome and the seconds it took. On failure it prints the end of the log (all of
# it when CI=true) and returns CMD's status.
emc_step() {
  local name="$1" log status start
  shift
  mkdir -p "$EMC_LOG_DIR"
  log="$EMC_LOG_DIR/$name.log"
  start=$SECONDS
  printf '[emcluster] %-40s ' "$name"
  if "$@" >"$log" 2>&1; then
    printf 'ok (%d s)\n' "$((SECONDS - start))"
    return 0
  else
    status=$?
  fi
  printf 'FAILED (%d s, exit %d)\n' "$((SECONDS - start))" "$status"
  echo "---- $log ----"
  if [ "${CI:-}" = "true" ]; then cat "$log"; else tail -n 80 "$log"; fi
  echo "---- end of $log ----"
  return "$status"
}
