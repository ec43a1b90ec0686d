"""Sweeps: a grid of run configurations x seeds from a spec file, on local workers or a Ray cluster."""
