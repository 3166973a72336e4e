"""gradjit bench and gradjit info: the harness, the report's arithmetic, the command."""

import json

import numpy as np
import pytest

from gradjit import cli
from gradjit.bench import report, runner
from gradjit.bench.competitors import competitors
from gradjit.bench.workloads import TIERS, WORKLOADS


def measurement(competitor, median, kind="gradjit", workload="w", label="s"):
    return runner.Measurement(workload, label, competitor, kind, 100, 2, 400, median, median, median, 5, median * 10, 1.0)


def test_summary_ratios_are_computed_from_the_same_run():
    results = runner.Results("quick", "gradjit bench", runner.machine_info(2), [
        measurement("gradjit", 0.002),
        measurement("gradjit out=", 0.001),
        measurement("gradjit 1 thread", 0.0038),
        measurement("numpy vectorized", 0.2, kind="reference"),
        measurement("compute floor", 0.0005, kind="floor"),
        measurement("write floor", 0.0008, kind="floor"),
        measurement("write floor reused", 0.0004, kind="floor"),
    ])
    (row,) = report.summary_rows(results)
    assert row["speedup_vs_numpy"] == pytest.approx(100.0)
    assert row["floor_fraction"] == pytest.approx(0.0008 / 0.002)  # the larger floor over gradjit
    assert row["floor_fraction_out"] == pytest.approx(0.0005 / 0.001)  # reused output: compute floor dominates
    assert row["parallel_speedup"] == pytest.approx(1.9)
    assert row["first_call_ms"] == pytest.approx(20.0)
    assert "| w | s | 2.000 | 100.0 | 0.40 / 0.50 | 1.90 | 20 |" in report.summary_table(results)


def test_every_workload_has_every_tier_and_builds_consistent_cases():
    for workload in WORKLOADS.values():
        assert set(workload.sizes) == set(TIERS)
        if workload.unavailable():
            continue
        case = next(workload.cases("smoke"))
        points = case.points()
        assert points.shape == (case.n_points, case.d)
        assert case.batched(points).shape == (case.n_points,)
        assert case.f(points[0]) == pytest.approx(case.batched(points[:1])[0])


def test_competitors_agree_on_the_gradient():
    case = next(WORKLOADS["saddle-3d"].cases("smoke"))
    points = case.points()
    values = {}
    for competitor in competitors(2):
        if competitor.kind in ("gradjit", "reference", "jax") and competitor.applies(case) and competitor.per_call == 1:
            value = competitor.prepare(case, points, 2)()
            values[competitor.name] = value.reshape(case.d, -1).T if value.shape == case.output_shape and case.axes else value
    reference = values.pop("numpy vectorized")
    for name, value in values.items():
        assert value.shape == reference.shape, name
        assert abs(value - reference).max() < 1e-6, name


def test_terms_competitors_agree_with_the_dense_gradient():
    case = next(WORKLOADS["rosenbrock-terms"].cases("smoke"))
    points = case.points()
    by_name = {c.name: c for c in competitors(2)}
    terms = by_name["gradjit"].prepare(case, points, 2)()
    dense = by_name["gradjit dense f"].prepare(case, points, 2)()
    reference = by_name["numpy vectorized"].prepare(case, points, 2)()
    scale = np.maximum(1.0, np.abs(reference))
    assert np.max(np.abs(terms - reference) / scale) < 1e-6 and np.max(np.abs(dense - reference) / scale) < 1e-6
    assert case.evaluations == 2 * 2 * case.n_points  # order 2, two groups
    by_name["compute floor"].prepare(case, points, 2)()  # the terms floor runs


def test_bench_command_writes_table_json_markdown_and_chart(tmp_path, capsys, monkeypatch):
    from dataclasses import replace

    from gradjit.bench import workloads

    unavailable = replace(workloads.WORKLOADS["saddle-3d"], requires=lambda: "needs something not installed")
    monkeypatch.setitem(workloads.WORKLOADS, "saddle-3d", unavailable)
    argv = ["bench", "--smoke", "--workloads", "rosenbrock", "many-starts", "saddle-3d", "--out", str(tmp_path), "--quiet"]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "| rosenbrock | d=10, N=20 |" in printed and "Skipped: saddle-3d (needs something not installed)" in printed
    data = json.loads((tmp_path / "results.json").read_text())
    names = {m["competitor"] for m in data["measurements"]}
    assert {"gradjit", "gradjit 1 thread", "numpy vectorized", "classic loop", "compute floor", "write floor"} <= names
    assert "minimize, per step" in names
    assert {"cpu", "cores", "numba", "numpy", "threading_layer", "threads", "date"} <= set(data["machine"])
    assert "saddle-3d" in data["skipped"]
    assert "## Summary" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"


def test_bench_rejects_a_bad_thread_count():
    with pytest.raises(SystemExit):
        cli.main(["bench", "--smoke", "--threads", "0"])


def test_info_prints_versions_layer_threads_and_cache(capsys):
    assert cli.main(["info"]) == 0
    printed = capsys.readouterr().out
    for key in ("gradjit", "numba", "numpy", "threading layer", "threads", "cache"):
        assert key in printed
