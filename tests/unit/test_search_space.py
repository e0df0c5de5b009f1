"""The search space file of `biodl tune`: shapes, lines in errors, values through Optuna."""

from __future__ import annotations

import pytest

from biodl.errors import BiodlError
from biodl.selection.space import as_override, read_space


def space(tmp_path, text: str):
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return read_space(path)


def test_ranges_and_choices(tmp_path):
    lr, kernel, channels = space(tmp_path, "task.optimizer.lr: {low: 1e-4, high: 1e-2, log: true}\n"
                                           "model.kernel_size: {low: 5, high: 21, step: 2}\n"
                                           "model.channels: {choices: [[8], [8, 8]]}\n")
    assert (lr.low, lr.high, lr.log, lr.integer) == (1e-4, 1e-2, True, False)
    assert (kernel.integer, kernel.step, kernel.line) == (True, 2, 2)
    assert channels.probes() == [[8], [8, 8]] and channels.line == 3
    assert as_override("model.channels", [8, 8]) == "model.channels=[8, 8]"


def test_values_travel_through_optuna(tmp_path):
    import optuna

    params = space(tmp_path, "model.channels: {choices: [[8], [8, 8]]}\n"
                             "model.kernel_size: {low: 5, high: 7, step: 2}\n")
    trial = optuna.trial.FixedTrial({"model.channels": "[8, 8]", "model.kernel_size": 7})
    assert [p.suggest(trial) for p in params] == [[8, 8], 7]


@pytest.mark.parametrize("text, message", [
    ("a.b: {low: 1, high: 2}\nmodel.dropout: {low: 0.3, high: 0.1}\n",
     "line 2: model.dropout: the range [0.3, 0.1] is empty"),
    ("task.optimizer.lr: {low: 0, high: 1, log: true}\n", "a log range needs low > 0"),
    ("model.dropout: {lo: 0, high: 1}\n", "model.dropout.lo: not a range or choice setting; "
                                          "did you mean 'low'?"),
    ("model.dropout: {choices: 0.1}\n", "expected a non-empty list, got 0.1"),
    ("model.dropout: 0.1\n", "expected {low, high} or {choices: [...]}"),
    ("[1, 2]\n", "expected a mapping of config keys"),
])
def test_bad_spaces(tmp_path, text, message):
    with pytest.raises(BiodlError, match=None) as error:
        space(tmp_path, text)
    assert message in str(error.value)


def _draws(study, trials: int) -> list[float]:
    study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0) ** 2, n_trials=trials)
    return [t.params["x"] for t in study.trials]


def test_a_seeded_sampler_resumes_as_if_never_stopped():
    import optuna

    from biodl.selection.tune import make_sampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    whole = _draws(optuna.create_study(sampler=make_sampler(7)), 14)  # 10 random, then TPE
    storage = optuna.storages.InMemoryStorage()
    first = optuna.create_study(storage=storage, study_name="s", sampler=make_sampler(7))
    _draws(first, 5)
    resumed = optuna.load_study(storage=storage, study_name="s", sampler=make_sampler(7))
    assert _draws(resumed, 9) == whole
    other = _draws(optuna.create_study(sampler=make_sampler(8)), 3)
    assert other != whole[:3]
