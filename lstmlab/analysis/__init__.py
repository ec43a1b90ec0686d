"""What a trained network computes: its fixed and slow points, the linearisation there, and whether they
form a line along the quantity the task holds (`lstmlab analyze`).

`state.py` (a model's whole state as one vector, one step as a pure function F(s, u)), `fixed_points.py`
(minimising ½‖F(s) − s‖² from many states at once, then Newton), `linearise.py` (Jacobians, eigenvalues,
time constants), `probe.py` (linear probes of a quantity in the states), `line_attractor.py`,
`figures.py`, and `analyze.py`, which analyses a finished run and writes the results beside its models.
"""
