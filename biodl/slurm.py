"""Render (and submit) the sbatch script behind `make slurm`. No torch.

One task per GPU (Lightning reads its ranks from Slurm's variables), `--requeue` and
`--signal=SIGUSR1@90`: on preemption Lightning saves a checkpoint and requeues the job; the
requeued job resumes into the same MLflow run, whose id the first launch wrote to a file.

    python -m biodl.slurm PIPELINE --nodes 1 --gpus 4 [--set k=v ...] [--submit]
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path
from string import Template

from biodl.errors import BiodlError

SCRIPT = Template("""#!/bin/bash
#SBATCH --job-name=biodl-${name}
#SBATCH --nodes=${nodes}
#SBATCH --ntasks-per-node=${tasks}
${gres}#SBATCH --cpus-per-task=${cpus}
#SBATCH --time=${time}
#SBATCH --requeue
#SBATCH --signal=SIGUSR1@90
#SBATCH --output=${logs}/%x-%j.out
#SBATCH --open-mode=append
# Rendered by biodl.slurm. Preemption: Lightning saves a checkpoint on SIGUSR1 and requeues;
# the requeued job continues the same MLflow run from that checkpoint, appending to this log.
set -euo pipefail
cd ${workdir}
export SRUN_CPUS_PER_TASK=$$SLURM_CPUS_PER_TASK  # srun >= 22.05 no longer inherits -c
${tracking}RUN_FILE=${logs}/$${SLURM_JOB_ID}.run_id
if [ "$${SLURM_RESTART_COUNT:-0}" -gt 0 ] && [ -s "$$RUN_FILE" ]; then  # requeued
  srun ${biodl} fit --resume "$$(cat "$$RUN_FILE")" ${sets}
else  # a first launch: a file left by an earlier job with this id is not ours
  rm -f "$$RUN_FILE"
  BIODL_RUN_FILE="$$RUN_FILE" srun ${biodl} fit ${pipeline} ${sets}
fi
""")

TUNE_SCRIPT = Template("""#!/bin/bash
#SBATCH --job-name=biodl-tune-${name}
#SBATCH --array=1-${workers}
#SBATCH --ntasks=1
${gres}#SBATCH --cpus-per-task=${cpus}
#SBATCH --time=${time}
#SBATCH --output=${logs}/%x-%A_%a.out
# Rendered by biodl.slurm: ${workers} array tasks, each a worker of one Optuna study sharing
# ${storage}; the study stops at ${trials} finished trials whichever worker finishes them. A
# task killed mid-trial leaves that trial to be retried (heartbeats); resubmitting resumes.
set -euo pipefail
cd ${workdir}
${tracking}srun ${biodl} tune ${pipeline} --trials ${trials} --storage ${storage}${space} ${sets}
""")


def render_tune(pipeline: str, workers: int, trials: int, storage: str, gpus: int, cpus: int,
                time: str, overrides: list[str], logs: Path, workdir: Path, biodl: str,
                space: str = "") -> str:
    """An sbatch array script: `workers` tasks of one study on a shared storage (on a cluster
    a database server, or sqlite on a filesystem with working locks)."""
    if workers < 1 or trials < 1 or not storage:
        raise BiodlError("slurm tune: WORKERS and TRIALS must be >= 1 and STORAGE an Optuna "
                         "storage URL every node reaches, e.g. sqlite:////shared/optuna.db")
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    sets = [f"trainer.accelerator={'gpu' if gpus else 'cpu'}", "trainer.devices=1", *overrides]
    return TUNE_SCRIPT.substitute(
        name=Path(pipeline).name or "tune", workers=workers, cpus=cpus, time=time,
        gres="#SBATCH --gres=gpu:1\n" if gpus else "", logs=shlex.quote(str(logs)),
        workdir=shlex.quote(str(workdir)), biodl=shlex.quote(biodl), trials=trials,
        pipeline=shlex.quote(pipeline), storage=shlex.quote(storage),
        space=f" --space {shlex.quote(space)}" if space else "",
        sets=" ".join(f"--set {shlex.quote(s)}" for s in sets),
        tracking=f"export MLFLOW_TRACKING_URI={shlex.quote(uri)}\n" if uri else "")


def render(pipeline: str, nodes: int, gpus: int, tasks: int, cpus: int, time: str,
           overrides: list[str], logs: Path, workdir: Path, biodl: str) -> str:
    """The sbatch script text. `gpus` per node; with 0, `tasks` CPU processes per node."""
    if nodes < 1 or gpus < 0 or (gpus == 0 and tasks < 1):
        raise BiodlError("slurm: NODES must be >= 1 and GPUS >= 0 (with GPUS=0, TASKS >= 1)")
    per_node = gpus or tasks
    trainer = {"accelerator": "gpu" if gpus else "cpu", "devices": per_node,
               "num_nodes": nodes, "strategy": "ddp" if nodes * per_node > 1 else "auto"}
    sets = [f"trainer.{k}={v}" for k, v in trainer.items()] + list(overrides)
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    return SCRIPT.substitute(
        name=Path(pipeline).name or "fit", nodes=nodes, tasks=per_node, cpus=cpus, time=time,
        gres=f"#SBATCH --gres=gpu:{gpus}\n" if gpus else "", logs=shlex.quote(str(logs)),
        workdir=shlex.quote(str(workdir)), biodl=shlex.quote(biodl),
        pipeline=shlex.quote(pipeline), sets=" ".join(f"--set {shlex.quote(s)}" for s in sets),
        tracking=f"export MLFLOW_TRACKING_URI={shlex.quote(uri)}\n" if uri else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline")
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--gpus", type=int, default=1, help="GPUs per node (0: CPU tasks)")
    parser.add_argument("--tasks", type=int, default=1, help="CPU processes per node if --gpus 0")
    parser.add_argument("--cpus", type=int, default=int(os.environ.get("CPUS", 8)),
                        help="CPUs per task (default $CPUS, e.g. `make slurm CPUS=1`, else 8)")
    parser.add_argument("--time", default="24:00:00")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--logs", default=".slurm")
    parser.add_argument("--submit", action="store_true", help="sbatch the script")
    parser.add_argument("--tune", type=int, metavar="TRIALS", help="an array of tune workers")
    parser.add_argument("--workers", type=int, default=4, help="--tune: array tasks")
    parser.add_argument("--storage", default="", help="--tune: the shared Optuna storage")
    parser.add_argument("--space", default="", help="--tune: the search space YAML")
    args = parser.parse_args(argv)
    logs = Path(args.logs).resolve()
    logs.mkdir(parents=True, exist_ok=True)
    biodl = str(Path(sys.executable).with_name("biodl"))
    try:
        text = (render_tune(args.pipeline, args.workers, args.tune, args.storage, args.gpus,
                            args.cpus, args.time, args.overrides, logs, Path.cwd(), biodl,
                            args.space)
                if args.tune is not None else
                render(args.pipeline, args.nodes, args.gpus, args.tasks, args.cpus, args.time,
                       args.overrides, logs, Path.cwd(), biodl))
    except BiodlError as error:
        raise SystemExit(f"error: {error}") from None
    kind = "tune" if args.tune is not None else "fit"
    script = logs / f"{Path(args.pipeline).name or 'fit'}{'-tune' if kind == 'tune' else ''}.sbatch"
    script.write_text(text)
    print(f"wrote {script}")
    if args.submit:
        done = subprocess.run(["sbatch", "--parsable", str(script)], capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise SystemExit(f"error: sbatch failed: {done.stderr.strip()}")
        print(f"submitted job {done.stdout.strip()}")


if __name__ == "__main__":
    main()
