"""The training scripts of the two scorers: each reproduces its shipped data file byte for byte
from the training part, and refuses the held-out part."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, run_script

MATCHING = ROOT / "integration" / "core" / "matching"
SCRIPTS = [("train_complaint.py", MATCHING / "complaint_cues.json"), ("train_department.py", MATCHING / "topic_cues.json")]


@pytest.fixture(autouse=True)
def _scikit_learn() -> None:
    pytest.importorskip("sklearn", reason="scikit-learn (the `train` extra) is needed to run the training scripts")


@pytest.mark.parametrize("script, shipped", SCRIPTS, ids=[s for s, _ in SCRIPTS])
def test_training_on_the_training_part_reproduces_the_shipped_file(tmp_path: Path, script: str, shipped: Path) -> None:
    out = tmp_path / shipped.name
    run = run_script(script, "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == shipped.read_bytes(), f"retrain with `python scripts/{script}` and commit the file"


@pytest.mark.parametrize("script", [s for s, _ in SCRIPTS])
def test_training_refuses_the_held_out_part(tmp_path: Path, script: str) -> None:
    heldout = tmp_path / "heldout.jsonl"
    heldout.write_text("", encoding="utf-8")
    run = run_script(script, "--train", str(heldout), "--out", str(tmp_path / "x.json"))
    assert run.returncode != 0
    assert "the held-out part is never used for training" in run.stderr
