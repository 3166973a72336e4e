"""The gallery: the seeds' figures redone with gradjit.plot, and more, as PNG files.

Each figure is a short recipe in ``gradjit/gallery.py`` (read it: every recipe
is a few calls of gradjit.minimize and gradjit.plot). ``gradjit demo`` runs the
same recipes. Headless, in about 20 seconds (most of it compiling):

    python examples/09_gallery.py [--out DIR] [--small] [NAME ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gradjit import gallery


def main(out: Path, names: list[str] | None = None, small: bool = False) -> list[Path]:
    paths = gallery.render_all(out, small=small, names=names or None)
    for name, path in zip(names or gallery.FIGURES, paths):
        print(f"{name:28s} {path}  {gallery.FIGURES[name].__doc__.splitlines()[0]}")
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"figures to draw (default: all of {', '.join(gallery.FIGURES)})")
    parser.add_argument("--out", type=Path, default=Path("figures"))
    parser.add_argument("--small", action="store_true", help="fewer points, for a quick check")
    options = parser.parse_args()
    main(options.out, options.names, options.small)
