"""Inject a 0.1% error into each shared formula in turn and check that the oracle tests fail.

    python .ci/inject_errors.py            # every mutation (a minute or two each: Numba compiles anew)
    python .ci/inject_errors.py central    # those whose name contains "central"

Each mutation multiplies one result of one formula of ``gradjit/stencils`` by
1.001, runs ``tests/test_oracle.py`` (every backend against ``tests/naive.py``)
and restores the file. A mutation the tests do not catch is reported and the
script exits with status 1. The source files are edited in place (and always
restored), so run it on a clean working tree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STENCILS = ROOT / "gradjit" / "stencils"

#: (name, file, the function, the text in it, its replacement).
MUTATIONS = [
    ("central weights", "weights.py", "central_weights", "float(w) for w", "1.001 * float(w) for w"),
    ("one-sided weights", "weights.py", "one_sided_weights", "float(w) for w", "1.001 * float(w) for w"),
    ("taken step", "weights.py", "actual_step", "return (x + h * scale) - x", "return 1.001 * ((x + h * scale) - x)"),
    ("central entry", "formulas.py", "central_entry", "return total / h", "return 1.001 * total / h"),
    ("one-sided entry", "formulas.py", "one_sided_entry", "return total / h", "return 1.001 * total / h"),
    ("complex-step entry", "formulas.py", "complex_step_entry", "return value.imag / h", "return 1.001 * value.imag / h"),
    ("Hessian diagonal", "formulas.py", "hessian_entry", "return (plus - 2.0 * center + minus) / (hj * hj)",
     "return 1.001 * (plus - 2.0 * center + minus) / (hj * hj)"),
    ("Hessian cross term", "formulas.py", "hessian_entry", "return ((plus_plus", "return 1.001 * ((plus_plus"),
    ("central column", "formulas.py", "central_column", "column[r] /= h", "column[r] /= h / 1.001"),
    ("one-sided column", "formulas.py", "one_sided_column", "column[r] /= h", "column[r] /= h / 1.001"),
    ("complex-step column", "formulas.py", "complex_step_column", "column[r] = value[r].imag / h",
     "column[r] = 1.001 * value[r].imag / h"),
    ("Richardson quotient", "richardson.py", "richardson_entry", "table[i] = (plus - call(x, args)) / (2.0 * h)",
     "table[i] = 1.001 * (plus - call(x, args)) / (2.0 * h)"),
    ("bounded one-sided entry", "bounds.py", "bounded_entry", "return one_sided_entry(", "return 1.001 * one_sided_entry("),
    ("bounded one-sided column", "bounds.py", "bounded_column", "        one_sided_column(call, args, x, j, h, one_sided, column)",
     "        one_sided_column(call, args, x, j, h, one_sided, column)\n        column *= 1.001"),
    ("bounded one-sided Richardson", "bounds.py", "bounded_richardson_entry", "return one_sided, one_sided_error",
     "return 1.001 * one_sided, one_sided_error"),
]


def mutate(source: str, function: str, text: str, replacement: str) -> str:
    """``source`` with the first ``text`` after ``def function(`` replaced."""
    start = source.index(f"def {function}(")
    at = source.index(text, start)
    return source[:at] + replacement + source[at + len(text):]


def main(selected: list[str]) -> int:
    missed = []
    for name, file, function, text, replacement in MUTATIONS:
        if selected and not any(s in name for s in selected):
            continue
        path = STENCILS / file
        original = path.read_text()
        path.write_text(mutate(original, function, text, replacement))
        try:
            run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests/test_oracle.py"],
                                 cwd=ROOT, capture_output=True, text=True, check=False)
        finally:
            path.write_text(original)
        caught = run.returncode != 0
        print(f"{'caught' if caught else 'MISSED'}: {name} ({file}: {function})", flush=True)
        if not caught:
            missed.append(name)
    print(f"{len(missed)} missed" + (f": {', '.join(missed)}" if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
