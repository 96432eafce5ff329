"""The README's review example is the real golden output. (The pipeline's review jobs are
files now, run for real by tests/workflows.)"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
GOLDEN = Path(__file__).parent / "golden"


def test_readme_example_is_the_golden_markdown() -> None:
    golden = (GOLDEN / "scenario.md").read_text(encoding="utf-8")
    assert f"````markdown\n{golden}````\n" in README


def test_readme_points_to_the_pipeline_files_it_describes() -> None:
    for name in ("pull-request.yml", "deploy.yml"):
        assert (REPO / ".github" / "workflows" / name).is_file(), name
        assert f"`.github/workflows/{name}`" in README, name
