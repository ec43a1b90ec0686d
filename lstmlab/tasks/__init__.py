"""Tasks, one module each, found by name: `tasks.get("adding")` is the class, `tasks.of(config)` an instance.

A task is named by a registered name (lstmlab's own in TASKS, or an installed package's entry point in
the group "lstmlab.tasks"), by a spec of the user's own class ("mymodule:MyTask", "./my_task.py:MyTask"),
or given as the class itself (the Python API); `lstmlab.plugins` finds it.

To add a task to lstmlab: write `tasks/NAME.py` with one `Task` subclass (see `base.py`) and add it to
TASKS. To use your own task without touching lstmlab, pass its spec wherever a task name goes.
"""

from lstmlab.tasks.adding import Adding
from lstmlab.tasks.base import Metrics, Setting, Task
from lstmlab.tasks.copy import Copy
from lstmlab.tasks.integration import Integration

TASKS: dict[str, type[Task]] = {task.name: task for task in (Integration, Adding, Copy)}
GROUP = "lstmlab.tasks"  # the entry-point group of tasks from installed packages


def resolve(task) -> tuple[str, type[Task]]:
    """(spec, class) of a task name, spec or class; ConfigError in one line for one that is not a task."""
    from lstmlab import plugins

    spec, cls = plugins.resolve(task, Task, TASKS, GROUP, "task")
    cls.check_class()
    return spec, cls


def get(task) -> type[Task]:
    """The task class of a name, spec or class."""
    return resolve(task)[1]


def of(config) -> Task:
    """The task of a TaskConfig, ready to generate, train and score its variant."""
    return get(config.name)(config)


__all__ = ["TASKS", "GROUP", "Task", "Metrics", "Setting", "get", "of", "resolve"]
