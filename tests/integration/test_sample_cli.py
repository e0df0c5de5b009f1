"""`biodl sample` on the checkpoint of a 2-batch language-model fit."""

from typer.testing import CliRunner

from biodl.cli import app

from ..conftest import DATA, ROOT, SMOKE

runner = CliRunner()
SLICE = DATA / "leptospira_slice"


def test_cli_samples_a_fitted_language_model(workdir, monkeypatch):
    from biodl.config import load_config
    from biodl.train import fit

    monkeypatch.setenv("BIODL_CACHE", str(workdir / "cache"))
    quick = [*SMOKE, "data.split.val_groups=[NZ_AHMY02000073.1]",
             "data.split.test_groups=[NZ_AHMY02000072.1]", f"data.genome={SLICE / 'contigs.gbk'}",
             "data.window=200", "model.hidden_size=16", "model.num_layers=1"]
    result = fit(load_config(ROOT / "pipelines" / "leptospira_lm", quick), echo=lambda *_: None)
    out = workdir / "samples.fa"
    args = ["sample", str(result.best_checkpoint), "-n", "3", "--length", "20",
            "--temperature", "0.8", "--seed", "5", "--prompt", "acg", "-o", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    lines = out.read_text().splitlines()
    assert lines[::2] == [f">sample_{i} temperature=0.8 seed=5 length=20 prompt=ACG"
                          for i in (1, 2, 3)]
    assert all(len(s) == 20 and s.startswith("ACG") and set(s) <= set("ACGT") for s in lines[1::2])
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert not list(workdir.glob(".samples.fa.*"))  # no temporary file left behind
    by_run = runner.invoke(app, [*args[:1], result.run_id, *args[2:], "--force"])
    assert by_run.exit_code == 0, by_run.output
    assert out.read_text().splitlines() == lines  # same seed, same samples, from the run id
