"""Choices made for the machine: precision and threads."""


def test_precision_auto_follows_the_cpu():
    from biodl.hardware import choose_precision

    assert choose_precision("cpu", {"avx2", "fma"})[0] == "32-true"
    precision, why = choose_precision("cpu", {"avx2", "amx_bf16"})
    assert precision == "bf16-mixed" and "amx_bf16" in why
