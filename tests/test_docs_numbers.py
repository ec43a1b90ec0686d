"""Numbers the docs cannot lose: the results pages (docs/results/*.md) and the README's results section
are generated from the committed study.json files (`lstmlab/studies/findings.py`). The committed text
is exactly what its template gives today, the templates hold no hand-typed measured figure, and a
change to the data changes the text."""

import json
import shutil

import pytest

from conftest import ROOT
from lstmlab.studies import findings
from lstmlab.studies.findings import literal_numbers, pages, render

TEMPLATES = sorted((ROOT / findings.TEMPLATES).rglob("*.md"))


def test_every_results_page_is_its_template_rendered_from_the_committed_data():
    generated = pages(ROOT)
    assert {str(path) for path in generated} >= {f"docs/results/{name}.md" for name in
                                                  ("tbptt", "tbptt-bias", "objective", "adding", "cells", "length",
                                                   "studies")} | {"README.md"}
    stale = [str(path) for path, text in generated.items() if (ROOT / path).read_text() != text]
    assert stale == [], "run python -m lstmlab.studies.findings"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_templates_hold_no_hand_typed_measured_figure(template):
    assert literal_numbers(template.read_text()) == []


def test_the_literal_check_catches_a_typed_figure_but_not_a_setting_or_an_expression():
    assert literal_numbers("k2 = 10 loses 0.54 points at T = 25") == ["0.54"]
    assert literal_numbers("Adam at 1e-3, 3 epochs, {{ num(x, 4) }}, `--lr 0.003`, 1.6e-7") == ["1.6e-7"]


def test_a_change_to_the_committed_data_changes_the_pages(tmp_path):
    for part in ("docs/templates", "docs/studies", "docs/results/dynamics"):
        shutil.copytree(ROOT / part, tmp_path / part)
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text())
    shutil.copy(ROOT / "docs/bench-reference.json", tmp_path / "docs/bench-reference.json")
    before = pages(tmp_path)
    path = tmp_path / "docs/studies/cells/study.json"
    study = json.loads(path.read_text())
    arm = next(r for r in study["summary"] if r.get("kind") == "arm" and r["cell"] == "rnn" and r["seq_len"] == 200)
    arm["test_accuracy"]["mean"] = 0.123456
    path.write_text(json.dumps(study))
    after = pages(tmp_path)
    assert "0.1235" in after[findings.Path("docs/results/cells.md")]
    assert after[findings.Path("README.md")] != before[findings.Path("README.md")]
    analysis = tmp_path / "docs/results/dynamics/lstm-1layer-analysis.json"
    record = json.loads(analysis.read_text())
    record["line_attractor"]["probe_r2"] = 0.123456
    analysis.write_text(json.dumps(record))
    assert "0.1235" in pages(tmp_path)[findings.Path("docs/results/dynamics.md")]


def test_statements_run_and_their_lines_vanish():
    assert render("{% x = 2 %}\na {{ x * 3 }} b\n{% y = x %}{% z = y %}\n{{ z }}\n", {}) == "a 6 b\n2\n"
