"""Sweeps: a grid of run configurations x seeds from a spec file, on local workers or a Ray cluster; the
resumable grid runner that sweeps and studies share (`grid.py`), and their statistics (`stats.py`)."""
