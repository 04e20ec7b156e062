"""``torch.optim.optimizer`` of the stand-in (see ``__init__``): what torch imports from it."""

from . import (  # noqa: F401
    MESSAGE,
    ForbiddenOperationError,
    Optimizer,
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)


def __getattr__(name):
    raise AttributeError(f"torch.optim.optimizer.{name}: {MESSAGE}")
