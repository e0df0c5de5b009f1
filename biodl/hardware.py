"""Choices made for the machine a fit runs on: numeric precision and torch's thread count."""

from __future__ import annotations

from pathlib import Path

NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # CPU flags with hardware bf16 arithmetic


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags (Linux); empty where /proc/cpuinfo is missing."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def choose_precision(accelerator: str, flags: set[str] | None = None) -> tuple[str, str]:
    """`trainer.precision: auto` -> (Lightning precision, why): bf16-mixed on a GPU with bf16
    or a CPU with native bf16 (AMX or AVX-512 BF16), 32-true otherwise (on an AVX2-only CPU
    bf16 is emulated and several times slower than fp32)."""
    import torch

    wants_gpu = accelerator in ("auto", "gpu", "cuda")
    if wants_gpu and torch.cuda.is_available():
        if torch.cuda.is_bf16_supported():
            return "bf16-mixed", f"GPU {torch.cuda.get_device_name(0)} supports bf16"
        return "16-mixed", f"GPU {torch.cuda.get_device_name(0)} has no bf16: fp16 mixed"
    native = sorted(set(NATIVE_BF16_FLAGS) & (cpu_flags() if flags is None else flags))
    if native:
        return "bf16-mixed", f"CPU with native bf16 ({', '.join(native)})"
    return "32-true", "CPU without native bf16 (no AMX or AVX-512 BF16): fp32 is faster"


def set_threads(threads: int | None) -> None:
    """torch's intra-op threads; None leaves torch's default (one per core)."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
