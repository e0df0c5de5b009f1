#!/bin/bash
# Start a one-node Slurm cluster on this machine (slurmctld + slurmd + munged), installing
# Debian's packages first if they are missing. Idempotent; run as root from any folder.
#
#   tests/slurm/start_cluster.sh [STATE]      STATE defaults to $BIODL_SLURM_STATE or
#                                             /tmp/biodl-slurm
#   export SLURM_CONF=STATE/slurm.conf        then sbatch, squeue, scontrol use this cluster
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
state=$(mkdir -p "${1:-${BIODL_SLURM_STATE:-/tmp/biodl-slurm}}" && cd "${1:-${BIODL_SLURM_STATE:-/tmp/biodl-slurm}}" && pwd)
export SLURM_CONF=$state/slurm.conf

say() { echo "start_cluster: $*" >&2; }

install_packages() {
    local missing=0
    for tool in slurmctld slurmd sbatch munged mungekey; do
        command -v "$tool" >/dev/null || missing=1
    done
    [ "$missing" = 0 ] && return
    say "installing slurmctld slurmd slurm-client munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >&2 \
        || { apt-get update >&2 && apt-get install -y --no-install-recommends \
                 slurmctld slurmd slurm-client munge >&2; }
}

start_munge() {
    if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi
    [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge
    chmod 755 /run/munge
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged
    munge -n </dev/null | unmunge >/dev/null
}

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_slurm() {
    mkdir -p "$state/ctld" "$state/d"
    [ -s "$state/first_job_id" ] || echo $(( $(date +%s) % 60000000 + 1 )) > "$state/first_job_id"
    sed -e "s|@STATE@|$state|g" -e "s|@FIRST_JOB_ID@|$(cat "$state/first_job_id")|" \
        "$here/slurm.conf.in" > "$state/slurm.conf.new"
    mv "$state/slurm.conf.new" "$state/slurm.conf"
    if ! alive "$state/slurmctld.pid"; then
        say "starting slurmctld (log: $state/slurmctld.log)"
        slurmctld
    fi
    if ! alive "$state/slurmd.pid"; then
        say "starting slurmd (log: $state/slurmd.log)"
        slurmd -N localhost
    fi
}

wait_idle() {
    local node
    for _ in $(seq 120); do
        node=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
        case "$node" in
            idle*|mixed*|allocated*) say "node localhost is $node; SLURM_CONF=$SLURM_CONF"; return ;;
            down*|drain*) scontrol update nodename=localhost state=resume 2>/dev/null || true ;;
        esac
        sleep 0.5
    done
    say "node never became idle (state: '${node:-no answer}'); see $state/*.log"
    tail -5 "$state/slurmctld.log" "$state/slurmd.log" >&2 || true
    return 1
}

install_packages
start_munge
start_slurm
wait_idle
