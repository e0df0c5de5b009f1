"""Interpretation: attributions of a model's output to its inputs, as plain torch functions.

`attribute(model, x, method, target)` takes an `nn.Module` and `(N, 4, L)` one-hot DNA and
returns `(N, 4, L)` attributions (see `biodl.interpret.attributions` for the four methods and
their exactness); `make_references` draws the dinucleotide-shuffled references and
`sum_to_delta` / `relative_error` measure how exactly an attribution adds up.
"""

from biodl.interpret.attributions import (DEFAULT_REFERENCES, DEFAULT_STEPS, EXACT_SUM, METHODS,
                                          attribute, check_method, is_recurrent,
                                          make_references, relative_error, sum_to_delta)

__all__ = ["DEFAULT_REFERENCES", "DEFAULT_STEPS", "EXACT_SUM", "METHODS", "attribute",
           "check_method", "is_recurrent", "make_references", "relative_error", "sum_to_delta"]
