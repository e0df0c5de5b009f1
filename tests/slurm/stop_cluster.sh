#!/bin/bash
# Stop the cluster that start_cluster.sh started: cancel its jobs, stop slurmd and slurmctld.
# munged is left running (other Slurm or munge users may share it). Idempotent.
#
#   tests/slurm/stop_cluster.sh [STATE]       the same STATE as start_cluster.sh
set -uo pipefail
state=${1:-${BIODL_SLURM_STATE:-/tmp/biodl-slurm}}
export SLURM_CONF=$state/slurm.conf
[ -f "$SLURM_CONF" ] || exit 0

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if alive "$state/slurmctld.pid"; then
    jobs=$(squeue -h -o %i 2>/dev/null)
    [ -n "$jobs" ] && scancel --full $jobs && sleep 2
fi
for daemon in slurmd slurmctld; do
    alive "$state/$daemon.pid" && kill -TERM "$(cat "$state/$daemon.pid")"
done
for _ in $(seq 40); do
    alive "$state/slurmd.pid" || alive "$state/slurmctld.pid" || exit 0
    sleep 0.25
done
echo "stop_cluster: slurmd or slurmctld still running after 10 s; see $state/*.log" >&2
exit 1
