# Lying versions of the names test cells use (builtins, and names the checks might be looked up under), in the
# cell of evaluate_accuracy (which uses int and len: those two are left alone). Nothing the student defines,
# except the exercise's own functions, may reach a test cell.


def abs(x):
    return 0


def isinstance(obj, cls):
    return True


def all(iterable):
    return True


def sum(*args, **kwargs):
    return 0


def any(iterable):
    return False


AssertionError = Warning
assert_close = lambda *a, **k: None  # noqa: E731
passed = lambda *a, **k: None  # noqa: E731
copy = None


def train_epoch(net, loader, loss_fn, optimizer):
    return 0.0, 0.0
