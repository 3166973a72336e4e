"""The gallery renders every figure headless, compactly, without leaking figures; ``gradjit demo`` runs it."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from gradjit import cli, errors, gallery

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_every_figure_renders_small_and_compact(tmp_path):
    paths = gallery.render_all(tmp_path, small=True)
    assert len(paths) == len(gallery.FIGURES) and plt.get_fignums() == []
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and 2_000 < len(data) < 200_000, path.name


def test_demo_command_writes_the_chosen_figures(tmp_path, capsys):
    assert cli.main(["demo", "--small", "--out", str(tmp_path), "--figures", "tangent_of_cube", "gradient_field_of_the_seed"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gradient_field.png", "tangent_of_cube.png"]
    assert str(tmp_path / "tangent_of_cube.png") in capsys.readouterr().out


def test_the_resolution_is_chosen(tmp_path, capsys):
    from PIL import Image

    for dpi in (60, 120):
        assert cli.main(["demo", "--small", "--dpi", str(dpi), "--out", str(tmp_path / str(dpi)), "--figures",
                         "tangent_of_line"]) == 0
    low, high = (Image.open(tmp_path / str(dpi) / "tangent_of_line.png").size[0] for dpi in (60, 120))
    assert 1.8 < high / low < 2.2
    with pytest.raises(errors.OptionError, match="dpi must be"):
        gallery.render_all(tmp_path, names=["tangent_of_line"], dpi=5)
    with pytest.raises(SystemExit):
        cli.main(["demo", "--dpi", "5"])
    assert "dpi must be from 20 to 1200" in capsys.readouterr().err


def test_times_in_titles_keep_two_digits():
    assert gallery._duration(0.00042) == "0.42 ms"
    assert gallery._duration(0.069) == "69 ms"
    assert gallery._duration(1.2345) == "1,234 ms"


def test_unknown_figures_are_named(tmp_path, capsys):
    with pytest.raises(errors.OptionError, match="unknown figures \\['nope'\\]"):
        gallery.render_all(tmp_path / "unused", names=["nope"])
    assert not (tmp_path / "unused").exists()
    assert cli.main(["demo", "--out", str(tmp_path), "--figures", "nope"]) == 2
    assert "choose from" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_parsing_the_command_line_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys; from gradjit import cli; cli.parser(); print('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
