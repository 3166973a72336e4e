"""Every example script runs headless (small sizes) and writes what it promises."""

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *argv: str) -> None:
    saved = sys.argv
    sys.argv = [name, *argv]
    try:
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    finally:
        sys.argv = saved


def test_seed_examples_write_their_figures(tmp_path, capsys):
    run_example("01_seed_examples.py", "--out", str(tmp_path))
    for name in ("tangent_of_cube", "gradient_field", "descent_path", "saddle_surface"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    printed = capsys.readouterr().out
    assert "grad at [3.0, 4.0]: [6. 8.]" in printed


def test_speedup_example_runs_quickly(capsys):
    run_example("02_speedup.py", "--quick")
    assert "vs numpy" in capsys.readouterr().out


def test_fast_objectives_example_times_three_forms(capsys):
    run_example("03_fast_objectives.py", "--side", "50")
    printed = capsys.readouterr().out
    assert all(name in printed for name in ("explicit_indices", "loop", "array_expression"))


def test_learning_rates_example_reports_each_outcome(tmp_path, capsys):
    run_example("04_learning_rates.py", "--out", str(tmp_path))
    printed = capsys.readouterr().out
    assert "lr 10" in printed and "diverged" in printed and "the gradient norm fell below gtol" in printed
    assert (tmp_path / "learning_rates.png").stat().st_size > 1000


def load(name):
    return runpy.run_path(str(EXAMPLES / name))


def test_momentum_and_adam_leave_the_saddle_faster_than_descent():
    iterations = load("05_saddle_escape.py")["main"]()
    assert iterations["adam"] < iterations["gradient descent"]
    assert iterations["momentum"] < iterations["gradient descent"]


def test_optimizers_reach_the_rosenbrock_minimum():
    errors = load("06_optimizers_on_rosenbrock.py")["main"](max_iter=40_000)
    assert max(errors.values()) < 1e-2


def test_himmelblau_basins_example_finds_four_minima():
    counts = load("07_himmelblau_basins.py")["main"](side=40)
    assert (counts > 0).all() and counts.sum() > 0.99 * 40 * 40


def test_two_layer_network_learns_digits():
    pytest.importorskip("sklearn")
    outcome = load("08_two_layer_network.py")["main"](hidden=5, steps=40)
    assert outcome["difference"] < 1e-6  # the compiled loss equals the NumPy one
    assert outcome["accuracy"] > 0.3


def test_gallery_example_draws_the_figures_it_is_asked_for(tmp_path, capsys):
    run_example("09_gallery.py", "--out", str(tmp_path), "--small", "tangent_of_line", "learning_rates")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["learning_rates.png", "tangent_of_line.png"]
    assert "tangent of 2x at 3" in capsys.readouterr().out


def test_large_grids_example_round_trips_through_disk(tmp_path):
    outcome = load("10_large_grids.py")["main"](side=300, out=tmp_path)
    assert outcome["float32_difference"] < 1e-6 and outcome["zarr_equal"]
    assert (tmp_path / "gradient.npy").stat().st_size > 2 * 300 * 300 * 8


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_is_covered(script):
    covered = {"01_seed_examples.py", "02_speedup.py", "03_fast_objectives.py", "04_learning_rates.py",
               "05_saddle_escape.py", "06_optimizers_on_rosenbrock.py", "07_himmelblau_basins.py",
               "08_two_layer_network.py", "09_gallery.py", "10_large_grids.py", "11_structured.py",
               "12_your_code.py", "13_gpu.py"}
    assert script in covered, f"add a test for {script}"


def test_structured_example_solves_newton_and_descends(capsys):
    report = load("11_structured.py")["main"](200)
    printed = capsys.readouterr().out
    assert "2 groups, 4 evaluations of the terms" in printed
    assert report["gradient_error"] < 1e-6 and report["newton_residual"] < 1e-9 and report["minimize_success"]


def test_your_code_example_newton_check_workers_and_functions(capsys):
    report = load("12_your_code.py")["main"](0.001)
    printed = capsys.readouterr().out
    assert report["newton_error"] < 1e-8
    assert report["false_failures"] == 0 and report["caught"] > 0.99 and report["worst_coordinate"] == 1
    assert report["workers_same"]
    assert "d cos/dx at 0.5: -0.4794255" in printed


def test_gpu_example_on_the_device_or_its_simulator(capsys):
    from gradjit import _cuda

    if _cuda.missing() is not None:
        pytest.skip(_cuda.missing())
    report = load("13_gpu.py")["main"](8, 4, 60)
    printed = capsys.readouterr().out
    assert report["grid_difference"] < 1e-6
    np.testing.assert_allclose(report["hessian"][:2, :2], [[10.0, -6.0], [-6.0, 10.0]], atol=1e-5)
    assert "Jacobians (4, 2, 3)" in printed
