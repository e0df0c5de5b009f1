"""`biodl explain`: attributions of a trained model, written to a folder and into its run."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

import typer

from biodl.cli.app import SOURCE, app, checkpoint_of, fails_cleanly
from biodl.cli.explain_outputs import destinations, log_run
from biodl.errors import BiodlError

METHOD_NAMES = {"saliency": "saliency", "integrated-gradients": "integrated_gradients",
                "deeplift-shap": "deeplift_shap", "ism": "ism"}


@app.command()
@fails_cleanly
def explain(source: str = SOURCE,
            inputs: Optional[Path] = typer.Argument(
                None, help="FASTA or CSV/TSV with a sequence column (default: the pipeline's "
                           "test split); image runs: the test split only."),
            method: str = typer.Option("deeplift-shap", help="saliency (gradient x input), "
                                       "integrated-gradients, deeplift-shap or ism."),
            target: Optional[str] = typer.Option(None, help="The class or output to explain "
                                                 "(default: the positive class, or the first)."),
            references: int = typer.Option(10, help="Dinucleotide-shuffled references per "
                                           "sequence (integrated-gradients, deeplift-shap)."),
            steps: int = typer.Option(50, help="Integrated gradients: first number of steps "
                                      "(tripled up to 3 times until complete to 1%)."),
            top_k: Optional[int] = typer.Option(None, help="Sequence logos of the K sequences "
                                                "with the largest explained output (default 10)."),
            length_policy: str = typer.Option("error", help="Records of another length than "
                                              "the model's window: error, crop, pad, crop_pad."),
            batch_size: int = typer.Option(64, help="Sequences explained at a time (ISM: "
                                           "mutants per forward pass; IG: path points)."),
            seed: int = typer.Option(0, help="Seed of the references (sequence i: seed + i)."),
            samples: int = typer.Option(8, help="Image runs: correct and misclassified test "
                                        "images shown (each)."),
            output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder "
                                                  "(default ./interpretation/METHOD-N)."),
            force: bool = typer.Option(False, help="Overwrite the output folder; run "
                                       "deeplift-shap on a recurrent model anyway.")) -> None:
    """Explain a trained model: which bases (or pixels) drive its output. Writes attributions
    (.npz), a TSV summary and sequence logos, and logs them in the run under interpretation/."""
    from biodl.inference.model import load

    trained = load(checkpoint_of(source))
    if trained.spec.kind.value == "images":
        from biodl.cli.interpretation_images import explain_images

        return explain_images(source, trained, inputs, method, top_k, samples, output, force)
    if method not in METHOD_NAMES:
        raise BiodlError(f"--method {method!r}: choose {', '.join(METHOD_NAMES)}")
    _explain_sequences(source, trained, inputs, METHOD_NAMES[method], target, references, steps,
                       10 if top_k is None else top_k, length_policy, batch_size, seed, output,
                       force)


def _explain_sequences(source, trained, inputs, method, target_name, references, steps, top_k,
                       length_policy, batch_size, seed, output, force) -> None:
    from biodl.interpret import explain as explaining
    from biodl.interpret.attributions import check_method
    from biodl.interpret.writing import AttributionWriter

    task, spec, checkpoint = trained
    target = explaining.target_of(spec, target_name)
    check_method(explaining.explained_model(task, spec, target), method, force)
    if references < 1 or top_k < 0 or batch_size < 1:
        raise BiodlError("--references and --batch-size must be at least 1, --top-k at least 0")
    run_id, folder, destination = destinations(source, method, output, force)
    ids, batches, count, width = sequence_inputs(checkpoint, spec, inputs, batch_size,
                                                 length_policy)
    folder.mkdir(parents=True, exist_ok=True)
    writer = AttributionWriter(folder, count, width, method, target.name, top_k)
    for explained in explaining.explain(task, spec, named(batches, ids), method, target,
                                        references, steps, seed, force, batch_size):
        writer.add(explained)
    logos = writer.close()
    what = "logit" if spec.target.value != "regression" else "output"
    typer.echo(f"explained {count} sequences by {method} on the {what} of '{target.name}'"
               + (" (minus the positive-class logit)" if target.negate else "")
               + f": {folder}/attributions.npz, summary.tsv, {len(logos)} logos")
    error = writer.relative_error()
    if error is not None:
        typer.echo(f"sum-to-delta error: {error:.2e} of the mean |output - reference output| "
                   f"({references} dinucleotide-shuffled references per sequence)")
    log_run(run_id, folder, destination)


def sequence_inputs(checkpoint: Path, spec, inputs: Optional[Path], batch_size: int,
                    length_policy: str):
    """(ids or None, batches, count, width) of a file or, by default, the test split."""
    from biodl.data.spec import LENGTH_POLICIES

    if length_policy not in LENGTH_POLICIES:
        raise BiodlError(f"--length-policy: {length_policy!r} is not a length policy; choose "
                         f"{', '.join(LENGTH_POLICIES)}")
    if inputs is None:
        return test_split(checkpoint, spec)
    from biodl.inference.batches import file_batches
    from biodl.inference.inputs import sequence_records

    count, longest = 0, 0
    for _, seq, _ in sequence_records(inputs):  # a first pass: the array sizes
        count, longest = count + 1, max(longest, len(seq))
    if count == 0:
        raise BiodlError(f"{inputs}: no sequences; give a FASTA or a CSV/TSV with a sequence "
                         "column")
    width = spec.length if spec.length and not spec.variable_length else longest
    return None, file_batches(inputs, spec, batch_size, length_policy), count, width


def test_split(checkpoint: Path, spec):
    import torch

    from biodl.config import config_from_yaml
    from biodl.data.formats import build_datamodule
    from biodl.record import split_batches

    recorded = torch.load(checkpoint, map_location="cpu", weights_only=True).get("biodl_config")
    if recorded is None:
        raise BiodlError(f"{checkpoint}: holds no pipeline config, so no test split; give "
                         "INPUTS (a FASTA or CSV)")
    datamodule = build_datamodule(config_from_yaml(recorded, [], f"{checkpoint} config").data)
    datamodule.setup("fit")
    ids = list(datamodule.split_ids["test"])
    width = spec.length
    if width is None:
        raise BiodlError("explain: this variable-length model has no maximum length; give "
                         "INPUTS (a FASTA or CSV) instead of the test split")
    return ids, split_batches(datamodule, "test"), len(ids), width


def named(batches, ids: Optional[list[str]]) -> Iterator:
    """The batches with their ids (the test split's batches carry none)."""
    if ids is None:
        yield from batches
        return
    first = 0
    for batch in batches:
        yield batch._replace(ids=ids[first:first + len(batch.x)])
        first += len(batch.x)
