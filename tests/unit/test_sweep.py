import shlex

import pytest

from biodl.errors import BiodlError
from biodl.sweep import grid, plan_lines, split_values


def test_values_split_on_top_level_commas_only():
    assert split_values("1e-3,3e-4") == ["1e-3", "3e-4"]
    assert split_values("[64,64],[128]") == ["[64,64]", "[128]"]
    assert split_values("{a: 1, b: 2},x") == ["{a: 1, b: 2}", "x"]


def test_grid_is_the_cartesian_product_in_order():
    combos = grid("task.optimizer.lr=1e-3,3e-4 model.dropout=0.1,0.3,0.5")
    assert len(combos) == 6
    assert combos[0] == [("task.optimizer.lr", "1e-3"), ("model.dropout", "0.1")]
    assert combos[-1] == [("task.optimizer.lr", "3e-4"), ("model.dropout", "0.5")]


def test_plan_lines_are_set_arguments_with_a_run_name():
    [line] = plan_lines("model.channels=[64,64]")
    assert shlex.split(line) == ["--set", "model.channels=[64,64]",
                                 "--set", 'tracking.run_name="channels=[64,64]"']


@pytest.mark.parametrize("text", ["", "lr", "=1,2", "lr="])
def test_bad_grids_say_the_form(text):
    with pytest.raises(BiodlError, match="GRID"):
        grid(text)
