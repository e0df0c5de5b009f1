"""Sampling DNA from a next-base language model, one base at a time with the state carried.

Contract: the model offers `step(tokens, state) -> (logits, state)`, tokens `(N, L)` int64 in
the vocabulary of `biodl.data.encoding` (PAD=0, A=1, C=2, G=3, T=4, N=5), logits `(N, L, V)`
where `logits[:, t]` predicts the token after `tokens[:, t]` (as `DNALM` does). Each new base
is one `step` of one token with the recurrent state carried over: O(length), never a re-run
of the whole prefix.

Start: the model has no start token. It was trained on windows that begin at an arbitrary base
of a contig and never predicts a window's first base, so it has no distribution for it.
Without a prompt the first base is drawn uniformly from A, C, G, T; with a prompt, the prompt
is fed first and its bases begin every sample.

Each next base is drawn from softmax(logits / temperature) over A, C, G, T only: PAD and N
logits are dropped before the softmax, so a sample never holds a PAD or an N. Temperature 1
is the model's own distribution, below 1 sharper (towards greedy argmax), above 1 flatter.

Randomness: one (num, length) block of uniforms drawn on the CPU from `seed`, row i for
sample i, each base by inverse CDF. So the same seed gives the same samples, the same random
numbers on any device, and sample i does not depend on `num`. Samples from one seed at other temperatures or prompts
reuse the same uniforms, so they are coupled (often the same bases a few steps on): each is
still a true draw from its own distribution, but take different seeds for independent draws.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Iterator

import torch
from torch import Tensor, nn

from biodl.data import encoding
from biodl.errors import BiodlError

BASE_TOKENS = tuple(encoding.TOKENS.index(base) for base in encoding.ALPHABET)  # A C G T


def check_options(num: int, length: int, temperature: float, prompt: str = "") -> None:
    """A BiodlError naming the first option out of range and its fix."""
    if num < 1:
        raise BiodlError(f"--num: {num} sequences; ask for at least 1, e.g. --num 10")
    if length < 1:
        raise BiodlError(f"--length: {length} bases; give at least 1, e.g. --length 500")
    if not (temperature > 0 and math.isfinite(temperature)):
        raise BiodlError(f"--temperature: {temperature} must be a finite number > 0 (1 samples "
                         "the model's own distribution, e.g. 0.8 for sharper samples)")
    check_prompt(prompt)
    if len(prompt) >= length:
        raise BiodlError(f"--prompt: {len(prompt)} bases leave none to sample in --length "
                         f"{length}; make --length longer than the prompt (it counts the prompt)")


def check_prompt(prompt: str) -> None:
    bad = sorted(set(prompt.upper()) - set(encoding.ALPHABET))
    if bad:
        raise BiodlError(f"--prompt: {''.join(bad)!r} not A, C, G or T; give the prompt in "
                         "A/C/G/T only (either case), e.g. --prompt ACGT")


def prompt_tokens(prompt: str) -> Tensor:
    """(P,) int64 tokens of an A/C/G/T prompt (either case)."""
    check_prompt(prompt)
    return torch.tensor([encoding.TOKENS.index(b) for b in prompt.upper()], dtype=torch.long)


def base_probabilities(logits: Tensor, temperature: float) -> Tensor:
    """(..., V) logits -> (..., 4) softmax(logits / temperature) over A, C, G, T only."""
    return (logits[..., list(BASE_TOKENS)].float() / temperature).softmax(dim=-1)


def draw(probs: Tensor, uniforms: Tensor) -> Tensor:
    """(n, 4) probabilities and (n,) uniforms in [0, 1) -> (n,) base indices 0-3 by inverse CDF."""
    below = (probs.cumsum(dim=-1) <= uniforms[:, None]).sum(dim=-1)  # (n,)
    return below.clamp(max=len(BASE_TOKENS) - 1)  # a cumsum of 0.99999994 < u stays in range


def steps(model: nn.Module, start: Tensor, uniforms: Tensor,
          temperature: float) -> Iterator[tuple[Tensor, Tensor]]:
    """Feed `start` (n, P) tokens, then yield (probs (n, 4), token (n, 1)) for each new base,
    one column of `uniforms` (n, steps) each, carrying the recurrent state."""
    bases = torch.tensor(BASE_TOKENS, device=start.device)
    logits, state = model.step(start, None)  # (n, P, V)
    for column in uniforms.T:
        probs = base_probabilities(logits[:, -1], temperature)  # (n, 4)
        token = bases[draw(probs, column.to(start.device))][:, None]  # (n, 1)
        yield probs, token
        logits, state = model.step(token, state)


@torch.inference_mode()
def sample_tokens(model: nn.Module, num: int, length: int, temperature: float = 1.0,
                  prompt: str = "", seed: int = 0) -> Tensor:
    """(num, length) int64 tokens in A, C, G, T: the prompt, then sampled bases (see above).

    Runs the model in eval mode (no dropout) and restores its mode afterwards.
    """
    check_options(num, length, temperature, prompt)
    if not hasattr(model, "step"):
        raise BiodlError(f"{type(model).__name__} has no step(tokens, state): sampling needs a "
                         "recurrent language model such as dna_lm")
    device = next(model.parameters()).device
    uniforms = torch.rand(num, length, generator=torch.Generator().manual_seed(seed))
    if prompt:
        start = prompt_tokens(prompt).expand(num, -1)  # (num, P)
    else:  # no start token: a uniform first base (see the module docstring)
        start = torch.tensor(BASE_TOKENS)[(uniforms[:, :1] * 4).long()]  # (num, 1)
    start = start.to(device)
    training = model.training
    model.eval()
    try:
        drawn = [token for _, token in steps(model, start, uniforms[:, start.shape[1]:],
                                             temperature)]
    finally:
        model.train(training)
    return torch.cat([start, *drawn], dim=1).cpu()  # (num, length)


def sample(model: nn.Module, num: int, length: int, temperature: float = 1.0,
           prompt: str = "", seed: int = 0) -> list[str]:
    """`num` sequences of `length` bases (prompt included) as A/C/G/T text."""
    tokens = sample_tokens(model, num, length, temperature, prompt, seed)
    return [encoding.decode_tokens(row) for row in tokens.numpy()]


def load_language_model(checkpoint: Path) -> nn.Module:
    """The model of a biodl `lm` checkpoint, in eval mode; a BiodlError for any other task."""
    kind = torch.load(checkpoint, map_location="cpu", weights_only=True).get(
        "biodl_task", "classification")
    if kind != "lm":
        raise BiodlError(f"{checkpoint}: is a {kind} model; sampling needs a checkpoint of an "
                         "lm pipeline run (data.format: lm, e.g. pipelines/leptospira_lm)")
    from biodl.tasks import load_task  # Lightning: only once the checkpoint is known to fit

    return load_task(checkpoint).model.eval()


def refuse_existing(output: Path, force: bool) -> None:
    if output.exists() and not force:
        raise BiodlError(f"{output}: already exists; choose another --output or pass --force")


def write_fasta(output: Path, sequences: list[str], description: str, force: bool = False) -> None:
    """Records `sample_1`..`sample_N`, each `description` in its header and its sequence on
    one line, written to a temporary file beside `output` and renamed into place."""
    refuse_existing(output, force)
    handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.",
                                         suffix=".partial")
    try:
        with os.fdopen(handle, "w") as out:
            for i, seq in enumerate(sequences, start=1):
                out.write(f">sample_{i} {description}\n{seq}\n")
        os.replace(temporary, output)  # a crash never leaves a half-written output
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
