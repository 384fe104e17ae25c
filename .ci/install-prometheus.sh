#!/usr/bin/env bash
# Installs Prometheus 2.x from Debian bookworm for the metric-analysis tests, which start their
# own instance (own config, tmp storage, random port). The package's system service is never
# started: a policy-rc.d that answers 101 ("action forbidden") covers the install, and the service
# is disabled afterwards so a later boot does not start it either. sid, if configured (see
# install-tools.sh), stays out: its pin of 100 loses to bookworm's 500, and the candidate is
# checked to be 2.x before anything is installed.
# Idempotent: when prometheus 2.x is already installed it does not run apt at all.
set -euo pipefail

POLICY=/usr/sbin/policy-rc.d
POLICY_BACKUP=/usr/sbin/policy-rc.d.shipshape-backup

die() { echo "install-prometheus: $*" >&2; exit 1; }

# Installed Debian version without epoch, or "" when absent.
installed() { dpkg-query -W -f='${db:Status-Abbrev} ${Version}' prometheus 2>/dev/null | awk '$1=="ii"{sub(/^[0-9]+:/,"",$2); print $2}'; }
candidate() { LANG=C apt-cache policy prometheus 2>/dev/null | awk '/Candidate:/{print $2}'; }

print_version() {
  command -v prometheus >/dev/null || die "prometheus $(installed) is installed but not on PATH"
  echo "prometheus $(installed)   ($(prometheus --version 2>&1 | head -1))"
}

if [[ $(installed) == 2.* ]] && command -v prometheus >/dev/null; then
  print_version
  exit 0
fi
[[ $(id -u) == 0 ]] || die "needs root to install prometheus"

cand=$(candidate)
if [[ -z $cand || $cand == "(none)" ]]; then
  echo "install-prometheus: apt-get update"
  apt-get update -qq
  cand=$(candidate)
fi
[[ $cand == 2.* ]] || die "apt's candidate for prometheus is '${cand:-none}', expected bookworm's 2.x"

# Refuse if apt would upgrade or remove anything: an upgrade shows as "Inst pkg [old] (new ...)".
sim=$(LANG=C apt-get -s install --no-install-recommends prometheus) || die "apt-get -s failed: $sim"
if grep -qE '^Remv |^Inst [^ ]+ \[' <<<"$sim"; then
  echo "$sim" >&2
  die "refusing: installing prometheus would upgrade or remove other packages"
fi

# Keep whatever policy-rc.d the machine has (Docker images ship one) and put it back afterwards.
restore_policy() {
  rm -f "$POLICY"
  if [[ -e $POLICY_BACKUP ]]; then mv "$POLICY_BACKUP" "$POLICY"; fi
}
# A backup left by an interrupted run is the original; never overwrite it with our stub.
if [[ -e $POLICY && ! -e $POLICY_BACKUP ]]; then mv "$POLICY" "$POLICY_BACKUP"; fi
trap restore_policy EXIT
printf '#!/bin/sh\n# Written by .ci/install-prometheus.sh while it runs.\nexit 101\n' >"$POLICY"
chmod 755 "$POLICY"

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus

# The postinst enables the unit for the next boot; `systemctl disable` works without a running
# systemd (it only edits links) and also disables the SysV script. Stop it only if systemd runs.
if command -v systemctl >/dev/null; then
  systemctl disable prometheus.service >/dev/null 2>&1 || true
  if [[ -d /run/systemd/system ]]; then systemctl stop prometheus.service >/dev/null 2>&1 || true; fi
elif command -v update-rc.d >/dev/null && [[ -e /etc/init.d/prometheus ]]; then
  update-rc.d prometheus disable >/dev/null 2>&1 || true
fi
print_version
