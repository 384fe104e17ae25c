#!/usr/bin/env bash
# Installs cosign, gitleaks and crane for the real-tool tests. Bookworm has none of them (nor
# bookworm-backports), and trixie's gitleaks 8.16 lacks the `git`/`dir` commands, so they come
# from sid. sid is pinned at 100 so it never upgrades anything on its own, and the install is
# simulated first: if apt would touch any package but these three, nothing is done.
# Idempotent: when the right versions are already there it does not run apt at all.
set -euo pipefail

TOOLS=(cosign gitleaks crane)
SOURCE=/etc/apt/sources.list.d/shipshape-unstable.sources
PIN=/etc/apt/preferences.d/shipshape-unstable

die() { echo "install-tools: $*" >&2; exit 1; }

# Installed Debian version without epoch, or "" when absent.
installed() { dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$1" 2>/dev/null | awk '$1=="ii"{sub(/^[0-9]+:/,"",$2); print $2}'; }

# cosign 3.x (v3 bundles, signing configs); gitleaks 8.19+ (`git`/`dir`); crane 0.x.
version_ok() {
  local major minor
  IFS=. read -r major minor _ <<<"$2"
  [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || return 1
  case $1 in
    cosign) ((major == 3)) ;;
    gitleaks) ((major == 8 && minor >= 19)) ;;
    crane) ((major == 0 && minor >= 20)) ;;
    *) return 1 ;;
  esac
}

missing() {
  local t v
  for t in "${TOOLS[@]}"; do
    v=$(installed "$t")
    if [[ -z $v ]] || ! version_ok "$t" "$v" || ! command -v "$t" >/dev/null; then echo "$t"; fi
  done
}

configure_sid() {
  # Another file may already add sid; a second entry for it would only make apt warn.
  if [[ ! -f $SOURCE ]] && ! grep -rqsE '^[^#]*\b(sid|unstable)\b' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    cat >"$SOURCE" <<'EOF'
# Added by .ci/install-tools.sh for cosign, gitleaks and crane; pinned low in preferences.d.
Types: deb
URIs: http://deb.debian.org/debian
Suites: unstable
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    echo "install-tools: added $SOURCE"
  fi
  local pin='# Added by .ci/install-tools.sh: sid only when asked for with -t unstable.
Package: *
Pin: release a=unstable
Pin-Priority: 100'
  if [[ "$(cat "$PIN" 2>/dev/null)" != "$pin" ]]; then
    printf '%s\n' "$pin" >"$PIN"
    echo "install-tools: wrote $PIN (Pin-Priority 100)"
  fi
}

# sid moves daily: lists older than 6 hours may name .debs the mirror has already dropped.
update_if_needed() {
  local lists
  lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*_dists_unstable_InRelease' -mmin -360 | head -1)
  if [[ -z $lists ]] || [[ -z "$(apt-cache madison cosign 2>/dev/null)" ]]; then
    echo "install-tools: apt-get update"
    apt-get update -qq
  fi
}

# Refuse unless the simulated install touches exactly our packages (no upgrades, no removals,
# no extra packages pulled from sid).
check_simulation() {
  local sim others
  sim=$(LANG=C apt-get -s install -t unstable --no-install-recommends "${TOOLS[@]}") || die "apt-get -s failed: $sim"
  others=$(awk '$1=="Inst"||$1=="Remv"||$1=="Purg"{print $2}' <<<"$sim" | grep -vxE "$(IFS='|'; echo "${TOOLS[*]}")" || true)
  if [[ -n $others ]]; then
    echo "$sim" >&2
    die "refusing: installing ${TOOLS[*]} from sid would also install, upgrade or remove: $(echo $others)"
  fi
  grep -E '^(Inst|Remv) ' <<<"$sim" | sed 's/^/install-tools: will /'
}

print_versions() {
  local t v
  for t in "${TOOLS[@]}"; do
    v=$(installed "$t")
    version_ok "$t" "$v" || die "$t ${v:-(absent)} is not the expected version (cosign 3.x, gitleaks 8.19+, crane 0.20+)"
  done
  # Debian's builds print no version ("GitVersion: devel", "version is set by build process",
  # "could not determine build information"), so the binaries are checked by what they can do:
  # `signing-config` is cosign 3's, `gitleaks git` arrived in 8.19, `registry serve` is the tests'.
  cosign version >/dev/null 2>&1 && cosign signing-config create --help >/dev/null 2>&1 ||
    die "cosign does not run as cosign 3.x (no 'signing-config create')"
  gitleaks version >/dev/null 2>&1 && gitleaks git --help >/dev/null 2>&1 || die "gitleaks has no 'git' command (needs 8.19+)"
  crane version >/dev/null 2>&1 && crane registry serve --help >/dev/null 2>&1 || die "crane has no 'registry serve'"
  echo "cosign   $(installed cosign)   ($(cosign version 2>&1 | awk '/^GitVersion/{print "GitVersion " $2}'))"
  echo "gitleaks $(installed gitleaks)   ($(gitleaks version 2>&1 | head -1))"
  echo "crane    $(installed crane)   ($(crane version 2>&1 | head -1))"
}

todo=$(missing)
if [[ -n $todo ]]; then
  [[ $(id -u) == 0 ]] || die "needs root to install: $(echo $todo)"
  configure_sid
  update_if_needed
  check_simulation
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t unstable --no-install-recommends "${TOOLS[@]}"
fi
print_versions
