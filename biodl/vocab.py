"""Domain constants every layer may import: alphabets, token ids, padding and ignore indices.

No torch and no biodl imports: data, models, tasks and inference all read these, so a model
never has to import data code (or the other way round) to agree on what a token means.
"""

from __future__ import annotations

# DNA, one-hot: channels in ACGT order, (N, 4, L); ASCII byte 0 is padding (all zeros).
ALPHABET = "ACGT"
PAD = 0  # padding: ASCII code 0 in uint8 codes, token 0 in every token vocabulary

# DNA tokens (embeddings, RNNs, the language model): token i stands for DNA_TOKENS[i].
DNA_TOKENS = "-ACGTN"  # '-' is padding; N stands for N and every other IUPAC code
DNA_VOCAB_SIZE = len(DNA_TOKENS)  # 6
TOKEN_N = 5

# Protein tokens (seq2seq targets): PAD, BOS, EOS, then the residues.
BOS, EOS = 1, 2
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
PROTEIN_ALPHABET = AMINO_ACIDS + "*X"  # '*' a stop codon, 'X' an unknown residue (codon with N)
PROTEIN_TOKENS = ("<pad>", "<bos>", "<eos>", *PROTEIN_ALPHABET)  # token id -> symbol
PROTEIN_VOCAB_SIZE = len(PROTEIN_TOKENS)  # 25

# The label of padded positions: F.cross_entropy's default ignore_index.
IGNORE_INDEX = -100

# Image files biodl reads (PIL for the first ones, tifffile for multi-channel TIFF).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def class_order(names) -> list[str]:
    """The order of class labels (label i is the i-th name): numeric when all are integers
    ('0', '1', '10'), else alphabetical. With two classes the second is the positive one."""
    names = set(names)
    if all(n.lstrip("-").isdigit() for n in names):
        return sorted(names, key=int)
    return sorted(names)
