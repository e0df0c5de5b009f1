"""Motifs: filter PWMs on a planted motif, JASPAR matching, MEME files, consensus sites and
modisco seqlet positions, each with exact expectations."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from biodl.data.encoding import onehot, onehot_table
from biodl.errors import BiodlError
from biodl.interpret import jaspar
from biodl.interpret.jaspar import Motif
from biodl.interpret.modisco import found_pattern
from biodl.interpret.motif_report import consensus_match, found_motif, position_text
from biodl.interpret.motifs import filter_sites, fired_per_class, first_conv

SEQS = ["TTACGTTT", "ACGTTACT", "TTTTTTTT"]  # ACG planted at 2 and 0; ACT (2 of 3) at 5


def one_hot(seqs: list[str]) -> torch.Tensor:
    codes = np.frombuffer("".join(seqs).encode(), dtype=np.uint8).reshape(len(seqs), -1)
    return torch.from_numpy(onehot(codes, onehot_table("zeros", "upper"))).float()


def acg_model() -> nn.Module:
    """Filter 0 scores matches to ACG (0-3); filter 1 is all zero (never fires)."""
    conv = nn.Conv1d(4, 2, 3, padding=1)  # padding is ignored: only whole windows count
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        conv.weight[0, [0, 1, 2], [0, 1, 2]] = 1.0  # A at 0, C at 1, G at 2
    return nn.Sequential(conv, nn.ReLU())


def test_filter_pwm_counts_the_sites_above_half_the_maximum():
    sites = filter_sites(acg_model(), one_hot(SEQS))
    # sites: ACG (seq 0 at 2), ACG (seq 1 at 0), ACT (seq 1 at 5, activation 2 > 1.5)
    assert sites.counts[0].tolist() == [[3, 0, 0], [0, 3, 0], [0, 0, 2], [0, 0, 1]]
    assert sites.sites.tolist() == [3, 0] and sites.max_activation.tolist() == [3.0, 0.0]
    assert sites.positions[0].tolist() == [1, 0, 1, 0, 0, 1]
    assert sites.fired.tolist() == [[True, True, False], [False, False, False]]
    assert fired_per_class(sites.fired, np.array([1, 1, 0]), 2)[0].tolist() == [0.0, 1.0]
    strict = filter_sites(acg_model(), one_hot(SEQS), threshold=0.8)
    assert strict.counts[0].tolist() == [[2, 0, 0], [0, 2, 0], [0, 0, 2], [0, 0, 0]]


def test_top_sites_take_the_strongest_of_each_filter():
    sites = filter_sites(acg_model(), one_hot(SEQS), top=2, batch_size=1)
    assert sites.counts[0].tolist() == [[2, 0, 0], [0, 2, 0], [0, 0, 2], [0, 0, 0]]
    assert sites.positions[0].tolist() == [1, 0, 1, 0, 0, 0]


def test_activations_go_through_the_batch_norm_after_the_convolution():
    model = acg_model()
    norm = nn.BatchNorm1d(2, eps=0.0).eval()
    with torch.no_grad():
        norm.weight.fill_(2.0)
        norm.bias.fill_(-3.0)  # 2a - 3: ACG (a=3) -> 3, ACT (a=2) -> 1 < 1.5
    sites = filter_sites(nn.Sequential(model[0], norm, nn.ReLU()), one_hot(SEQS))
    assert sites.counts[0].tolist() == [[2, 0, 0], [0, 2, 0], [0, 0, 2], [0, 0, 0]]
    assert sites.max_activation.tolist() == [3.0, -3.0] and sites.sites.tolist() == [2, 0]


def test_found_motif_is_trimmed_and_placed():
    # 4 sites: an uninformative first column (0 bits), then ACG
    counts = np.array([[1, 4, 0, 0], [1, 0, 4, 0], [1, 0, 0, 4], [1, 0, 0, 0]])
    found = found_motif("filter0", counts, "filter", np.array([0, 2, 0, 0, 1]),
                        {"a": 0.1, "b": 0.5})
    assert found.offset == 1 and jaspar.consensus(found.motif.probs) == "ACG"
    assert found.motif.sites == 4 and found.label == "b"
    assert position_text(found.positions, found.offset) == "3 (3-6)"


def test_no_first_convolution_is_a_clear_error():
    with pytest.raises(BiodlError, match="no first convolution over the DNA"):
        first_conv(nn.Sequential(nn.Flatten(), nn.Linear(8, 1)))
    with pytest.raises(BiodlError, match="reads 8 channels, not the 4 of one-hot DNA"):
        first_conv(nn.Sequential(nn.Conv1d(8, 2, 3)))


def test_information_content_and_trim():
    probs = np.array([[0.25, 1.0, 0.25], [0.25, 0.0, 0.25], [0.25, 0.0, 0.25], [0.25, 0.0, 0.25]])
    assert jaspar.information_content(probs).tolist() == pytest.approx([0.0, 2.0, 0.0])
    assert jaspar.trim(probs)[1] == 1 and jaspar.trim(probs)[0].shape == (4, 1)


def test_benjamini_hochberg():
    q = jaspar.benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.2]))
    assert q.tolist() == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2])


@pytest.fixture(scope="module")
def core():
    return jaspar.jaspar_core(["vertebrates"])


def test_jaspar_matrix_is_matched_to_itself_with_the_best_q_value(core):
    assert len(core) == 1019  # JASPAR2026 CORE vertebrates, latest versions
    query = next(m for m in core if m.name == "MA0142.1 Pou5f1::Sox2")
    assert query.family == "POU domain factors; SOX-related factors" and query.sites == 1364
    reverse = Motif("rc", query.probs[::-1, ::-1].copy())
    forward, flipped = jaspar.match([query, reverse], core)
    assert forward.target.name == "MA0142.1 Pou5f1::Sox2" and forward.strand == "+"
    assert flipped.target.name == "MA0142.1 Pou5f1::Sox2" and flipped.strand == "-"
    assert forward.q < 1e-40 and forward.p <= forward.q


def test_meme_file_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    motifs = [Motif("filter0", jaspar.probabilities(rng.integers(0, 9, (4, 7))), 12),
              Motif("MA0142.1 Pou5f1::Sox2", jaspar.probabilities(rng.integers(1, 9, (4, 5))))]
    jaspar.write_meme(tmp_path / "m.meme", motifs)
    back = jaspar.read_meme(tmp_path / "m.meme")
    assert [m.name for m in back] == ["filter0", "MA0142.1 Pou5f1::Sox2"]
    for original, read in zip(motifs, back):
        assert np.allclose(original.probs, read.probs, atol=1e-6)
    assert "nsites= 12" in (tmp_path / "m.meme").read_text()


def test_consensus_sites_on_both_strands():
    probs = one_hot(["GGTATAATGG"])[0].numpy()
    assert consensus_match(probs) == ("sigma70 -10 box", 1.0, 2, "+")
    probs = one_hot(["CTGTCAAC"])[0].numpy()  # reverse complement of TTGACA at 1
    assert consensus_match(probs) == ("sigma70 -35 box", 1.0, 1, "-")


def test_modisco_pattern_positions_on_both_strands():
    sequence = np.full((6, 4), 0.25)
    sequence[1:4] = np.eye(4)[[0, 1, 2]]  # core ACG at columns 1-3
    contrib = np.zeros((6, 4))
    contrib[1:4, 0] = 1.0
    seqlets = [SimpleNamespace(start=10, end=16, is_revcomp=False),
               SimpleNamespace(start=30, end=36, is_revcomp=True)]
    found = found_pattern("oct4_pattern0", SimpleNamespace(sequence=sequence,
                          contrib_scores=contrib, seqlets=seqlets), 50, "oct4")
    assert jaspar.consensus(found.motif.probs) == "ACG" and found.motif.sites == 2
    assert np.flatnonzero(found.positions).tolist() == [11, 32]  # forward core starts


def test_modisco_settings_follow_the_sequence_length():
    from biodl.interpret.modisco import settings_for

    assert settings_for(81)["sliding_window_size"] == 11 and settings_for(81)["flank_size"] == 5
    assert settings_for(200)["sliding_window_size"] == 21
    assert settings_for(200)["trim_to_window_size"] == 30
    with pytest.raises(BiodlError, match="30-bp sequences are too short"):
        settings_for(30, window=21)


def test_hypothetical_contributions_project_to_the_exact_sum_and_centre_ism():
    from biodl.interpret.attributions import make_references
    from biodl.interpret.modisco import hypothetical_contributions
    from biodl.models.layers import GlobalMaxPool1d

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(4, 3, 3), nn.ReLU(), GlobalMaxPool1d(), nn.Flatten(),
                          nn.Linear(3, 1)).eval()
    x = one_hot(["ACGTTGCAAGTC", "TTGACAGGTATA", "CCATGGATCGAT"])
    refs = make_references(x, 4, 0)
    hyp = hypothetical_contributions(model, x, "deeplift_shap", 0, refs)
    with torch.no_grad():
        delta = model(x)[:, 0] - model(refs.flatten(0, 1))[:, 0].view(3, 4).mean(1)
    assert torch.allclose((hyp * x).sum(dim=(1, 2)), delta, atol=1e-5)
    ism = hypothetical_contributions(model, x, "ism", 0)
    assert ism.shape == (3, 4, 12) and ism.sum(dim=1).abs().max() < 1e-5
    with pytest.raises(BiodlError, match="needs hypothetical contributions"):
        hypothetical_contributions(model, x, "saliency", 0)
