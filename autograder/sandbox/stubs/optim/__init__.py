"""Stands in for ``torch.optim`` in a grading sandbox whose calls may not use it (a call-scoped ban).

bubblewrap mounts this folder over torch's own ``torch/optim`` in that sandbox only, so neither the
package nor its source nor its compiled files are there to import, reload or read: ``import torch``
finds this instead. Its names exist (torch itself and the grader's wire format refer to them), and
creating an optimizer, or asking for any other name, raises. Nothing here can be undone from inside,
because the real package is not in the sandbox at all.
"""


class ForbiddenOperationError(RuntimeError):
    """The student's code reached torch.optim, which this exercise asks them to write by hand."""


MESSAGE = (
    "write this by hand: it used torch.optim, which is off limits in this exercise. "
    "Update the weights with tensor arithmetic (+, *, sqrt ...), as the exercise's formula says."
)


class Optimizer:
    """Every optimizer class of this stand-in: creating one raises."""

    def __init__(self, *args, **kwargs):
        raise ForbiddenOperationError(MESSAGE)


def register_optimizer_step_post_hook(hook):  # torch.profiler registers one on import
    return None


def register_optimizer_step_pre_hook(hook):
    return None


for _name in (
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "ASGD",
    "LBFGS",
    "NAdam",
    "RAdam",
    "Rprop",
    "SparseAdam",
    "Adafactor",
    "Muon",
):
    globals()[_name] = type(_name, (Optimizer,), {"__module__": __name__})


def __getattr__(name):
    raise AttributeError(f"torch.optim.{name}: {MESSAGE}")
