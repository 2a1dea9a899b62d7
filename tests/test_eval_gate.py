"""The regression evals, with the real model, embedder and Chroma, gate every CI run."""

import json
import subprocess
import sys

import pytest
from conftest import REPO

pytestmark = pytest.mark.e2e


def test_both_golden_sets_pass_their_thresholds(tmp_path):
    # The CI-sized run: all of golden and every 4th pydocs question, ~16 min on a 2-vCPU AVX2
    # EPYC (`make eval` asks all of pydocs, ~32 min more); the bound is for a hang, not speed.
    out_dir = REPO / "eval-out"
    run = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "eval", "--set", "ci",
         "--index-dir", str(tmp_path / "index"), "--out", str(out_dir),
         "--baseline", str(REPO / "evals" / "baseline.json")],
        capture_output=True, text=True, cwd=REPO, timeout=3600,
    )  # fmt: skip
    print(run.stdout)  # the summary table, shown with -s or on failure
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    for name, at_least in (("golden", 90), ("pydocs-ci", 15)):
        summary = json.loads((out_dir / name / "summary.json").read_text())
        assert summary["questions"] >= at_least and summary["errors"] == 0, name
        assert summary["quote_validity"] == 1.0, name
