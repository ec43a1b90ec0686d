import matplotlib.image

from lstmlab.plots import plot_curves

from sample_results import sample_results


def test_curves_are_written_as_a_png_with_one_column_per_model(tmp_path):
    path = tmp_path / "curves.png"
    plot_curves(sample_results(), path)
    image = matplotlib.image.imread(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = image.shape[:2]
    assert width > height  # two model columns side by side
