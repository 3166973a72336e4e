"""Every example script runs headless (small sizes) and writes what it promises."""

import runpy
import sys
from pathlib import Path

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
    assert (tmp_path / "gradient_field.png").stat().st_size > 1000
    assert (tmp_path / "descent_path.png").stat().st_size > 1000
    printed = capsys.readouterr().out
    assert "grad at [3.0, 4.0]: [6. 8.]" in printed


def test_speedup_example_runs_quickly(capsys):
    run_example("02_speedup.py", "--quick")
    assert "vs numpy" in capsys.readouterr().out


def test_fast_objectives_example_times_three_forms(capsys):
    run_example("03_fast_objectives.py", "--side", "50")
    printed = capsys.readouterr().out
    assert all(name in printed for name in ("explicit_indices", "loop", "array_expression"))


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_is_covered(script):
    assert script in {"01_seed_examples.py", "02_speedup.py", "03_fast_objectives.py"}, f"add a test for {script}"
