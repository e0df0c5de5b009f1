"""`biodl tune`: an Optuna study (TPE sampler) over a YAML search space.

Each trial is one nested `fit` of the pipeline with the trial's values as `--set` overrides,
under one parent MLflow run per study (its id kept in the study, so a resumed or parallel
worker nests under the same parent). The objective is the best value of the checkpoint's
monitored metric (`callbacks.checkpoint.monitor`, direction from its mode), reported every
epoch to the pruner. The study lives in an Optuna storage (default: `optuna.db` beside the
MLflow store): a killed worker's trial is failed after a heartbeat grace period and retried,
and `--trials N` counts the study's finished (complete or pruned) trials, so running the same
command again resumes and several processes on one storage share the work.
"""

from __future__ import annotations

import fcntl
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from biodl import tracking
from biodl.config import dump_yaml, find_pipeline, load_config
from biodl.errors import BiodlError
from biodl.selection.space import Param, as_override, check_space, read_space

PRUNERS = ("median", "halving", "none")
PARENT_ATTR = "mlflow_parent_run"
HEARTBEAT_S, GRACE_S = 10, 30


@dataclass
class TuneRequest:
    pipeline: str
    overrides: list[str]
    trials: int
    space: Optional[Path] = None
    storage: Optional[str] = None
    study: Optional[str] = None
    timeout: Optional[float] = None
    pruner: str = "median"
    out: Optional[Path] = None
    seed: Optional[int] = None


@dataclass
class TuneResult:
    run_id: str
    monitor: str
    finished: int
    pruned: int
    epochs: int
    best_number: int
    best_value: float
    best_params: dict[str, Any]
    best_yaml: Path
    best_test: dict[str, float] = field(default_factory=dict)


def check_request(req: TuneRequest) -> tuple[Path, list[Param]]:
    """Every refusal before the storage is opened or anything trains."""
    if req.trials < 1:
        raise BiodlError(f"--trials {req.trials}: give at least 1")
    if req.pruner not in PRUNERS:
        raise BiodlError(f"--pruner {req.pruner!r}: choose {', '.join(PRUNERS)}")
    if req.timeout is not None and req.timeout <= 0:
        raise BiodlError(f"--timeout {req.timeout}: give seconds above 0")
    space = req.space or find_pipeline(req.pipeline).parent / "space.yaml"
    params = read_space(space)
    check_space(params, req.pipeline, req.overrides, space)
    return space, params


def default_storage(mlflow_uri: str) -> str:
    database = tracking.local_database(mlflow_uri)
    folder = database.parent if database else Path.cwd()
    return f"sqlite:///{folder / 'optuna.db'}"


def open_storage(url: str):
    """An RDB storage with heartbeats (a killed worker's trial is retried), or one line."""
    import warnings

    from optuna.exceptions import ExperimentalWarning
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    warnings.filterwarnings("ignore", category=ExperimentalWarning)  # heartbeats are stable

    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    try:
        return RDBStorage(url, engine_kwargs=engine, heartbeat_interval=HEARTBEAT_S,
                          grace_period=GRACE_S,
                          heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                              max_retry=2))
    except Exception as error:  # SQLAlchemy's errors for a bad URL, driver or file
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BiodlError(f"--storage {url}: cannot be opened ({first}); give "
                         "sqlite:///PATH/optuna.db or a database URL such as "
                         "postgresql://user@host/db") from None


def _check_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite:///"):
        folder = Path(url[len("sqlite:///"):]).parent
        if not folder.is_dir():
            raise BiodlError(f"--storage {url}: folder {folder} does not exist; create it or "
                             "give another sqlite:///PATH/optuna.db")


def make_pruner(name: str):
    import optuna

    if name == "median":  # a few full trials first, and never on the first epoch
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    if name == "halving":  # Optuna's defaults (rungs at steps 1, 4, 16; reduction factor 4)
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def make_sampler(seed: Optional[int]):
    """TPE; with a seed, trial k draws from a generator seeded by (seed, k), so a resumed
    study, or trials run by parallel workers, propose what one uninterrupted worker would
    given the same finished trials (and two studies with one seed start from the same
    random trials)."""
    import optuna

    if seed is None:
        return optuna.samplers.TPESampler()

    class TrialSeededTPE(optuna.samplers.TPESampler):
        def before_trial(self, study, trial) -> None:
            trial_seed = (seed * 1_000_003 + trial.number) % 2**32
            self._rng.rng.seed(trial_seed)
            self._random_sampler._rng.rng.seed(trial_seed)
            super().before_trial(study, trial)

    return TrialSeededTPE(seed=seed)


def open_study(req: TuneRequest, cfg, url: str):
    """The study (made if new) on its storage; one line for a storage that cannot be opened
    or a stored study that differs (e.g. in direction)."""
    import optuna

    _check_sqlite_folder(url)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    mode = cfg.callbacks.checkpoint.mode
    name = req.study or cfg.name
    try:
        with _storage_lock(url):  # parallel workers: one creates the tables and the study
            return optuna.create_study(
                study_name=name, storage=open_storage(url), load_if_exists=True,
                sampler=make_sampler(req.seed), pruner=make_pruner(req.pruner),
                direction="minimize" if mode == "min" else "maximize")
    except ValueError as error:
        raise BiodlError(f"study {name} in {url}: {error}; give --study NAME for a new "
                         "study") from None


def run_study(req: TuneRequest, echo=print) -> TuneResult:
    import optuna

    space, params = check_request(req)
    cfg = load_config(req.pipeline, req.overrides)
    base_name = cfg.tracking.run_name or cfg.name
    url = req.storage or default_storage(tracking.tracking_uri(cfg.tracking.uri))
    study = open_study(req, cfg, url)
    parent = study_parent(study, cfg, url, base_name)
    ckpt = cfg.callbacks.checkpoint
    with tracking.parent_outcome(parent):
        parent.log_text(space.read_text(), "space.yaml")
        echo(f"study '{study.study_name}' in {url}: {count(study)} of {req.trials} trials done")
        objective = Objective(req, params, parent.run_id, base_name, ckpt.monitor, ckpt.mode,
                              echo)
        if count(study) < req.trials:
            study.optimize(objective, timeout=req.timeout, callbacks=[
                optuna.study.MaxTrialsCallback(req.trials, states=finished_states())])
        return summarize(study, req, params, parent, ckpt.monitor)


def finished_states() -> tuple:
    from optuna.trial import TrialState

    return (TrialState.COMPLETE, TrialState.PRUNED)


def count(study, states: tuple | None = None) -> int:
    return len(study.get_trials(deepcopy=False, states=states or finished_states()))


def study_parent(study, cfg, url: str, name: str) -> tracking.ParentRun:
    """The study's parent run: made by the first worker, found by the others (a file lock
    beside a local storage keeps two workers from both making one)."""
    with _storage_lock(url):
        run_id = study.user_attrs.get(PARENT_ATTR)
        parent = tracking.open_parent(cfg.tracking, f"{name} tune", "tune", run_id)
        if run_id is None:
            study.set_user_attr(PARENT_ATTR, parent.run_id)
            parent.log(params={"tune.study": study.study_name, "tune.storage": url})
    return parent


def _storage_lock(url: str):
    if not url.startswith("sqlite:///"):
        return nullcontext()
    return _flock(Path(url[len("sqlite:///"):] + ".lock"))


@contextmanager
def _flock(path: Path):
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@dataclass
class Objective:
    req: TuneRequest
    params: list[Param]
    parent: str
    name: str
    monitor: str
    mode: str
    echo: Any = print

    def __call__(self, trial) -> float:
        import optuna

        from biodl.selection.pruning import PruningCallback
        from biodl.train import fit

        values = {p.key: p.suggest(trial) for p in self.params}
        cfg = load_config(self.req.pipeline, [*self.req.overrides, *trial_overrides(values)])
        cfg.tracking.run_name = f"{self.name} trial {trial.number}"
        pruning = PruningCallback(trial, self.monitor, self.mode)
        self.echo(f"trial {trial.number}: " + " ".join(f"{k}={v}" for k, v in values.items()))
        result = fit(cfg, echo=lambda *_: None, parent=self.parent, callbacks=[pruning])
        state = "pruned" if pruning.pruned else "complete"
        tracking.ParentRun(tracking.tracking_uri(cfg.tracking.uri), result.run_id).log(
            tags={"biodl.trial": trial.number, "biodl.trial_state": state})
        for key, value in (("mlflow_run", result.run_id), ("epochs", pruning.epochs),
                           ("test", result.test_metrics)):
            trial.set_user_attr(key, value)
        self.echo(f"trial {trial.number}: {state} after {pruning.epochs} epoch(s), best "
                  f"{self.monitor} {pruning.best:.4f}")
        if pruning.pruned:
            raise optuna.TrialPruned()
        return pruning.best


def trial_overrides(values: dict[str, Any]) -> list[str]:
    return [as_override(key, value) for key, value in values.items()]


def summarize(study, req: TuneRequest, params: list[Param], parent, monitor: str) -> TuneResult:
    """The best trial as a pipeline YAML (logged on the parent too) and the study's totals."""
    from optuna.trial import TrialState

    finished = study.get_trials(deepcopy=False, states=finished_states())
    complete = [t for t in finished if t.state == TrialState.COMPLETE]
    if not complete:
        raise BiodlError(f"study {study.study_name}: no trial completed (all pruned or failed); "
                         "run more trials or use --pruner none")
    best = study.best_trial
    values = {p.key: _value_of(best.params[p.key], p) for p in params}
    cfg = load_config(req.pipeline, [*req.overrides, *trial_overrides(values)])
    cfg.tracking.run_name = None
    out = req.out or (find_pipeline(req.pipeline).parent / f"best_{study.study_name}.yaml")
    out.write_text(f"# biodl tune: best of {len(finished)} trials of study "
                   f"'{study.study_name}' (trial {best.number}, {monitor} = {best.value:.6g})\n"
                   + dump_yaml(cfg))
    epochs = sum(t.user_attrs.get("epochs", 0) for t in finished)
    parent.log(metrics={f"best/{monitor}": best.value, "trials_finished": len(finished),
                        "trials_pruned": len(finished) - len(complete), "epochs_total": epochs},
               tags={"biodl.best_trial_run": best.user_attrs.get("mlflow_run", ""),
                     **{f"best.{k}": v for k, v in values.items()}})
    parent.log_file(out)
    return TuneResult(parent.run_id, monitor, len(finished), len(finished) - len(complete),
                      epochs, best.number, best.value, values, out,
                      best.user_attrs.get("test", {}))


def _value_of(stored: Any, param: Param) -> Any:
    import json

    return json.loads(stored) if param.choices is not None else stored
