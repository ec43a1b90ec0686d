from lstmlab.report import render_report

from sample_results import sample_results


def test_report_has_a_row_per_model_the_baseline_and_the_figure():
    text = render_report(sample_results())
    assert "| lstm-1layer | 1,000 | 0.9600 | 0.1000 | 0.1750 | 0.1725 | 0.9000 | 3.0 |" in text
    assert "| lstm-2layer | 2,000 | 0.9700 |" in text
    assert "| majority class (baseline) | 0 | 0.5800 |" in text
    assert "![training curves](curves.png)" in text and "12.5 s" in text
