"""Studies: questions answered by a grid of runs over seeds (`runner.py` runs any `Study` on the grid runner,
`sweeps/grid.py`; a study imports `base`, `training`, `tables`, `noise` and `sweeps/stats.py`, never the runner)."""

from lstmlab.studies.adding import STUDY as ADDING
from lstmlab.studies.cells import STUDY as CELLS
from lstmlab.studies.length import STUDY as LENGTH
from lstmlab.studies.memory import STUDY as MEMORY
from lstmlab.studies.objective import STUDY as OBJECTIVE
from lstmlab.studies.tbptt import STUDY as TBPTT
from lstmlab.studies.tbptt_bias import STUDY as TBPTT_BIAS
from lstmlab.studies.timescale import STUDY as TIMESCALE

STUDIES = {study.name: study for study in (TBPTT, TBPTT_BIAS, OBJECTIVE, ADDING, CELLS, LENGTH, TIMESCALE, MEMORY)}
