"""ResNet-18 training steps/s on cell-image batches: fp32 NCHW vs bf16-mixed channels-last.

The blood-cell pipeline's model (small-image stem, 8 classes) on random 128-image batches at
28 and 64 px, one AdamW step each. The variants alternate step by step in one process so
machine noise hits all of them; the first steps are warm-up. Reports the median seconds per
step and each variant's speed relative to fp32 NCHW.

    .venv/bin/python benchmarks/image_train_speed.py [--steps 8] [--threads 2] [--sizes 28 64]

bf16 pays off where the CPU has AMX or AVX-512 BF16 (`lscpu | grep -o 'amx_bf16\\|avx512_bf16'`)
and on GPUs with tensor cores; elsewhere it can be slower than fp32.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from biodl.models.resnet import resnet18

VARIANTS = {  # name: (channels_last, bf16 autocast)
    "fp32 NCHW": (False, False),
    "fp32 channels-last": (True, False),
    "bf16 NCHW": (False, True),
    "bf16 channels-last": (True, True),
}


def make_step(channels_last: bool, bf16: bool, size: int, batch: int):
    torch.manual_seed(0)
    model = resnet18(in_channels=3, num_outputs=8, small_input=True, channels_last=channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.randn(batch, 3, size, size), torch.randint(0, 8, (batch,))

    def step() -> float:
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - start

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[28, 64])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"| size | variant | s/step (median of {args.steps}) | speed vs fp32 NCHW |")
    print("|---|---|---|---|")
    for size in args.sizes:
        steps = {name: make_step(*flags, size, args.batch) for name, flags in VARIANTS.items()}
        times: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for i in range(args.warmup + args.steps):
            for name, step in steps.items():
                seconds = step()
                if i >= args.warmup:
                    times[name].append(seconds)
        base = statistics.median(times["fp32 NCHW"])
        for name in VARIANTS:
            median = statistics.median(times[name])
            print(f"| {size} px | {name} | {median:.3f} | {base / median:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
