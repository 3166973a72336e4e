"""The ``gradjit`` command: ``gradjit bench``, ``gradjit demo``, ``gradjit info`` and ``gradjit cache``."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

import numba


def _bench(options: argparse.Namespace) -> int:
    from .bench import report, runner

    problem = _unwritable(Path(options.out))
    if problem:  # found now, not after the whole run
        print(f"gradjit bench: --out {options.out}: {problem}", file=sys.stderr)
        return 2
    tier = "full" if options.full else "smoke" if options.smoke else "quick"
    command = "gradjit " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else "gradjit bench"
    results = runner.run(tier, options.workloads, threads=options.threads, command=command,
                         report=(lambda line: None) if options.quiet else (lambda line: print(line, flush=True)))
    print()
    print(f"Machine: {report.machine_line(results)}")
    print()
    print(report.summary_table(results))
    print()
    if results.first_call:
        print(report.first_call_section(results))
    if report.disturbance(results):
        print(report.disturbance_note(results))
        print()
    if results.skipped:
        print("Skipped: " + "; ".join(f"{k} ({v})" for k, v in results.skipped.items()))
    paths = report.write(results, Path(options.out))
    print("Wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def _unwritable(directory: Path) -> str | None:
    """Why the results cannot be written into ``directory``, or None."""
    if directory.exists() and not directory.is_dir():
        return "is an existing file; give a directory for results.json, results.md and results.png"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".gradjit-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        return f"cannot be written to ({exc.strerror or exc})"
    return None


def _dpi(text: str) -> int:
    value = int(text)
    if not 20 <= value <= 1200:
        raise argparse.ArgumentTypeError(f"dpi must be from 20 to 1200; got {value}")
    return value


def _demo(options: argparse.Namespace) -> int:
    from . import gallery

    options.dpi = options.dpi or gallery.DPI
    from .errors import OptionError

    out = Path(options.out)
    try:
        gallery.check_names(options.figures)
    except OptionError as exc:  # an unknown name: nothing is drawn
        print(f"gradjit demo: {exc}", file=sys.stderr)
        return 2
    print(f"Rendering {len(options.figures or gallery.FIGURES)} figures into {out} at {options.dpi} dpi ...", flush=True)
    for path in gallery.render_all(out, small=options.small, names=options.figures, dpi=options.dpi):
        print(f"  {path}", flush=True)
    return 0


def _info(options: argparse.Namespace) -> int:
    import numpy as np

    from . import __version__, _cache, _config, _cuda
    from .bench.runner import machine_info

    info = machine_info(numba.config.NUMBA_NUM_THREADS)
    cache_dir = numba.config.CACHE_DIR or "next to gradjit's modules (__pycache__), else Numba's user cache"
    lines = {
        "gradjit": __version__,
        "numba": numba.__version__,
        "numpy": np.__version__,
        "python": info["python"],
        "cpu": info["cpu"],
        "cores": info["cores"],
        "threads (NUMBA_NUM_THREADS)": numba.config.NUMBA_NUM_THREADS,
        "threading layer": _config.threading_layer(),
        "Numba cache directory": cache_dir,
        "kernel cache": _cache_line(_cache, _config),
        "compilation mode (GRADJIT_JIT)": os.environ.get("GRADJIT_JIT") or "auto",
        "CUDA device (backend='cuda')": _cuda.describe()["cuda"],
    }
    width = max(map(len, lines))
    for key, value in lines.items():
        print(f"{key:{width}s}  {value}")
    return 0


def _cache_line(cache, config) -> str:
    if not config.CACHE_GENERIC_KERNELS:
        return "off (GRADJIT_DISABLE_CACHE)"
    files, size = cache.cache_size()
    limit = cache.size_limit() / 2**20
    return f"{cache.cache_directory()}: {files} files, {size / 2**20:.1f} MiB (limit {limit:.0f} MiB, GRADJIT_CACHE_SIZE_MB)"


def _cache_command(options: argparse.Namespace) -> int:
    from . import _cache

    directory = _cache.cache_directory()
    if options.action == "clear":
        files, size = _cache.clear()
        print(f"Removed {files} files ({size / 2**20:.1f} MiB) from {directory}")
    else:
        files, size = _cache.cache_size()
        print(f"{directory}: {files} files, {size / 2**20:.1f} MiB")
    return 0


def parser() -> argparse.ArgumentParser:
    from .bench.workloads import WORKLOADS

    top = argparse.ArgumentParser(prog="gradjit", description="JIT-accelerated numerical differentiation.")
    commands = top.add_subparsers(dest="command", required=True)

    bench = commands.add_parser("bench", help="benchmark gradjit against NumPy and the machine's limits")
    size = bench.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="the default: small and medium sizes, under a minute")
    size.add_argument("--full", action="store_true", help="every size (several minutes)")
    size.add_argument("--smoke", action="store_true", help="tiny sizes: checks that everything runs")
    bench.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), metavar="NAME",
                       help=f"which workloads (default: all of {', '.join(WORKLOADS)})")
    bench.add_argument("--threads", type=int, default=None, help="threads for gradjit and the floors (default: all)")
    bench.add_argument("--out", default="bench-results", help="directory for results.json, results.md, results.png")
    bench.add_argument("--quiet", action="store_true", help="no progress lines")
    bench.set_defaults(run=_bench)

    # The gallery (and matplotlib) is imported by `gradjit demo` only, not to parse `gradjit bench`.
    demo = commands.add_parser("demo", help="render the gallery: the seeds' figures and more, as PNG files")
    demo.add_argument("--out", default="gradjit-demo", help="directory for the PNG files")
    demo.add_argument("--figures", nargs="+", metavar="NAME",
                      help="which figures (default: all; an unknown name lists the others)")
    demo.add_argument("--small", action="store_true", help="fewer points: the same pictures in a few seconds")
    demo.add_argument("--dpi", type=_dpi, default=None, help="resolution of the PNG files (default 110)")
    demo.set_defaults(run=_demo)

    info = commands.add_parser("info", help="versions, threading layer, threads, cache directory and the CUDA device")
    info.set_defaults(run=_info)

    cache = commands.add_parser("cache", help="the disk cache of compiled kernels: where it is, its size; clear it")
    cache.add_argument("action", choices=["show", "clear"], nargs="?", default="show",
                       help="show (default): path and size; clear: delete every cached kernel")
    cache.set_defaults(run=_cache_command)
    return top


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if getattr(options, "threads", None) is not None and not 1 <= options.threads <= numba.config.NUMBA_NUM_THREADS:
        parser().error(f"--threads must be between 1 and {numba.config.NUMBA_NUM_THREADS}")
    return options.run(options)


if __name__ == "__main__":
    sys.exit(main())
