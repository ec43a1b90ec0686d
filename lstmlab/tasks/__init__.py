"""Tasks, one module each, found by name: `tasks.get("adding")` is the class, `tasks.of(config)` an instance.

To add a task: write `tasks/NAME.py` with one `Task` subclass (see `base.py`) and add it to TASKS.
"""

from lstmlab.tasks.adding import Adding
from lstmlab.tasks.base import Metrics, Task
from lstmlab.tasks.integration import Integration

TASKS: dict[str, type[Task]] = {task.name: task for task in (Integration, Adding)}


def get(name: str) -> type[Task]:
    """The task class called `name`."""
    from lstmlab.errors import ConfigError

    if not isinstance(name, str) or name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; choose from {', '.join(TASKS)}: fix --task")
    return TASKS[name]


def of(config) -> Task:
    """The task of a TaskConfig, ready to generate, train and score its variant."""
    return get(config.name)(config)


__all__ = ["TASKS", "Task", "Metrics", "get", "of"]
