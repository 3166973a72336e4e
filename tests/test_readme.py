"""The README's Python examples run as written, and its set-up commands are the CI's."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.DOTALL)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_blocks_run(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the blocks write files (figures, a memmap, a zarr store)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    exec(compile(BLOCKS[index], f"README block {index}", "exec"), {})  # noqa: S102 - the README is ours
    plt.close("all")


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    first_block = re.search(r"```bash\n(.*?)```", README, re.DOTALL).group(1).strip().splitlines()
    assert len(first_block) == 2
    install_and_run, install_and_test = first_block
    assert "pip install" in install_and_run and "pip install" in install_and_test
    assert install_and_test in (ROOT / ".ci" / "run").read_text()
