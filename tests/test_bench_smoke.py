"""`make bench` keeps working: every benchmark runs end to end with tiny iteration counts.

No timing is asserted here (the machine is noisy); the figures are `make bench`'s job."""

from __future__ import annotations

import pytest

from bench.__main__ import MODULES, load


def test_every_benchmark_runs_and_reports_figures(capsys: pytest.CaptureFixture[str]) -> None:
    ran = []
    for name in MODULES:
        module = load(name)
        if module is None:  # an optional benchmark not written yet
            continue
        figures = module.run(quick=True)  # type: ignore[attr-defined]
        assert figures, f"bench_{name} reported nothing"
        for label, figure in figures:
            assert isinstance(label, str) and label
            assert isinstance(figure, str) and figure
            assert "ERROR" not in figure
        ran.append(name)
    assert {"planner", "orchestrator", "cold_start", "slack_ack", "rss"} <= set(ran)
    assert "==" in capsys.readouterr().out  # each benchmark prints as it goes
