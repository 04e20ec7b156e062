"""Everything around training that is not an exercise: device, threads, seeds, data, recipes, the driver.

The network, the training loop and the accuracy loop are 06's exercises, so ``fit`` takes the
student's own ``train_epoch`` and ``evaluate_accuracy`` as arguments and never defines them.

    device = cu.training.setup(seed=0)        # threads for this machine, a seed, CUDA if present
    history = cu.training.fit(net, cu.training.COURSE_RECIPE, train_epoch, evaluate_accuracy)

``COURSE_QUICK=1`` in the environment (the tests and nbgrader set it) makes ``quick()`` true: the
notebook's long cells then train on a subset for one epoch, so a whole run takes seconds.
"""

from __future__ import annotations

import math
import os
import random
import time
import warnings
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass, replace

import torch
from torch import nn

from course_utils import data

__all__ = [
    "BASELINE_RECIPE",
    "COURSE_RECIPE",
    "BatchNorm",
    "FUSED",
    "INITIALISATIONS",
    "MEAN",
    "OPTIMIZERS",
    "STD",
    "Epoch",
    "GradientRecorder",
    "Overfit",
    "Progress",
    "Recipe",
    "RecordingLoss",
    "ScheduledOptimizer",
    "TensorLoader",
    "Watched",
    "bf16_native",
    "choose_device",
    "fashion_mnist",
    "fit",
    "gradient_norms",
    "initial_loss",
    "initialise",
    "make_optimizer",
    "overfit",
    "quadratic_paths",
    "quick",
    "seed_everything",
    "set_threads",
    "setup",
    "watch_runs",
    "watch_training",
    "with_activation",
    "with_batch_norm",
]

#: Mean and standard deviation of Fashion-MNIST's training pixels in [0, 1] (tests recompute them).
MEAN, STD = 0.2860, 0.3530


def quick() -> bool:
    """True when COURSE_QUICK is set to something other than "" or "0" (tests, nbgrader)."""
    return os.environ.get("COURSE_QUICK", "") not in ("", "0")


def choose_device() -> torch.device:
    """CUDA when PyTorch sees a GPU, the CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_threads() -> int:
    """Use one PyTorch thread per CPU this process may run on (its affinity, not the machine's count), or
    fewer when ``OMP_NUM_THREADS`` says so: kernels that share the CPUs (``python -m autograder autograde
    --jobs N``, the tests' parallel workers) are each given their part that way.

    On a 2-core machine that is 2: more threads than cores only adds contention. Returns the number.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    share = os.environ.get("OMP_NUM_THREADS", "")
    if share.isdigit() and int(share) > 0:
        cpus = min(cpus, int(share))
    threads = max(1, cpus)
    torch.set_num_threads(threads)
    return threads


def seed_everything(seed: int) -> None:
    """Seed Python's and PyTorch's generators (CPU and CUDA). Never called on import."""
    random.seed(seed)
    torch.manual_seed(seed)


def setup(seed: int = 0) -> torch.device:
    """Threads for this machine, a seed, and the device; prints what it chose.

    Also silences PyTorch's warning about ``float(loss)`` on a tensor that requires grad: reading a
    loss as a number is the usual idiom, and nbgrader counts any stderr output as a failed test.
    """
    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True to a scalar")
    threads = set_threads()
    seed_everything(seed)
    device = choose_device()
    print(
        f"device: {device}, PyTorch threads: {threads}, seed: {seed}"
        + (" (COURSE_QUICK: short runs)" if quick() else "")
    )
    return device


class Progress:
    """Progress and time left of a long cell: one line, "title: run 2/5 (Adam) · 120/376 batches · 14 s · about
    31 s left", in a notebook a bar and that line, updated at most every ``interval`` seconds.

    A cell's work is `runs` training runs of so many batches each. As a context manager it is the active
    progress: every ``fit`` and ``watch_training`` inside the ``with`` block, and the widgets that call them,
    report to it (``begin`` at a run's start, ``step`` after each batch), so a cell shows progress without its
    functions being told::

        with cu.training.Progress("five optimizers", runs=5):
            lw.compare_optimizers(build_lenet_relu, train_epoch, evaluate_accuracy)

    The time left assumes the runs still to come take as long, per batch, as the batches so far.
    """

    _active: list[Progress] = []

    def __init__(self, title: str = "", runs: int = 1, interval: float = 0.2, display: bool = True) -> None:
        if runs < 1:
            raise ValueError(f"runs must be at least 1; got {runs}")
        self.title, self.runs, self.interval = title, runs, interval
        self.run, self.name, self.done, self.total = 0, "", 0, 0
        self.text = f"{title}: starting".lstrip(": ")
        self._start = self._next = 0.0
        self._bar = self._label = None
        self._display = display

    def __enter__(self) -> Progress:
        self._start = time.perf_counter()
        if self._display:
            self._show()
        Progress._active.append(self)
        return self

    def __exit__(self, *exc) -> None:
        Progress._active.remove(self)
        self.finish()

    @classmethod
    def active(cls) -> Progress | None:
        """The innermost progress whose ``with`` block is running, or None."""
        return cls._active[-1] if cls._active else None

    def _show(self) -> None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython ships with the course
            return
        if get_ipython() is None:
            return
        import ipywidgets as widgets
        from IPython.display import display

        self._bar = widgets.FloatProgress(0.0, min=0.0, max=1.0, layout=widgets.Layout(width="300px"))
        self._label = widgets.Label(self.text)
        display(widgets.HBox([self._bar, self._label]))

    def begin(self, batches: int, name: str = "") -> None:
        """A run of `batches` batches starts."""
        if not self._start:
            self._start = time.perf_counter()
        self.run = min(self.run + 1, self.runs)
        self.name, self.done, self.total = name, 0, max(1, batches)
        self._update(force=True)

    def step(self, *_) -> None:
        """One more batch of the current run (any arguments, such as a loader's (i, n), are ignored)."""
        self.done += 1
        self._update(force=self.done >= self.total)

    @property
    def fraction(self) -> float:
        """The share of the cell's work done: finished runs, and the current one's batches."""
        return min(1.0, (self.run - 1 + self.done / max(1, self.total)) / self.runs) if self.run else 0.0

    def seconds_left(self) -> float | None:
        """Time left at the rate so far, or None before the first batch."""
        fraction = self.fraction
        if fraction <= 0:
            return None
        return (time.perf_counter() - self._start) * (1 - fraction) / fraction

    def _update(self, force: bool = False) -> None:
        now = time.perf_counter()
        if now < self._next and not force:
            return
        self._next = now + self.interval
        left = self.seconds_left()
        run = f"run {self.run}/{self.runs}" + (f" ({self.name})" if self.name else "") if self.runs > 1 else self.name
        self.text = " · ".join(
            part
            for part in (
                f"{self.title}: {run}".strip(": "),
                f"{self.done}/{self.total} batches",
                f"{now - self._start:.0f} s",
                f"about {left:.0f} s left" if left is not None else "",
            )
            if part
        )
        if self._bar is not None:
            self._bar.value, self._label.value = self.fraction, self.text

    def finish(self) -> None:
        """Show the total time."""
        self.text = f"{self.title}: done in {time.perf_counter() - self._start:.0f} s".lstrip(": ")
        if self._bar is not None:
            self._bar.value, self._label.value = 1.0, self.text


def _reporting(batches: int, name: str, on_batch: Callable | None) -> Callable | None:
    """`on_batch`, and the active Progress's ``step`` after it, once the Progress knows a run of `batches` begins."""
    progress = Progress.active()
    if progress is None:
        return on_batch
    progress.begin(batches, name)
    if on_batch is None:
        return progress.step

    def both(done: int, total: int) -> None:
        on_batch(done, total)
        progress.step()

    return both


class TensorLoader:
    """Batches (X, y) of in-memory tensors, like a DataLoader over a TensorDataset but without per-item work.

    Shuffles with its own generator (seeded: the same order on every run); `on_batch(i, n)` is called
    after each batch is handed out, for a progress bar. ``len(loader)`` is the number of batches.
    """

    def __init__(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        device: torch.device | str = "cpu",
        on_batch: Callable[[int, int], None] | None = None,
    ):
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1; got {batch_size}")
        self.X, self.y = X.to(device), y.to(device)
        self.batch_size, self.shuffle, self.on_batch = batch_size, shuffle, on_batch
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(self.X.shape[0] / self.batch_size)

    @property
    def num_samples(self) -> int:
        return self.X.shape[0]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = self.X.shape[0]
        order = torch.randperm(n, generator=self.generator).to(self.X.device) if self.shuffle else None
        batches = len(self)
        for i in range(batches):
            if order is None:
                batch = slice(i * self.batch_size, (i + 1) * self.batch_size)
                X, y = self.X[batch], self.y[batch]
            else:
                index = order[i * self.batch_size : (i + 1) * self.batch_size]
                X, y = self.X[index], self.y[index]
            yield X, y
            if self.on_batch is not None:
                self.on_batch(i + 1, batches)


def fashion_mnist(
    split: str = "train", normalize: bool = True, subset: int | None = None, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST as float32 images (N, 1, 28, 28) in [0, 1], or standardised with MEAN and STD, and labels (N,).

    `split` is one of ``data.SPLITS``: "train", "test", "validation" (the last 5,000 training images) or
    "train-without-validation" (the other 55,000). `subset` keeps that many images, chosen at random with
    `seed` (the same ones every time).
    Raises ``data.DatasetUnavailableError`` (shown as a short message in a notebook) when the data
    can't be found or downloaded.
    """
    images, labels = data.load_fashion_mnist(split)
    if subset is not None and subset < images.shape[0]:
        keep = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(seed))[:subset]
        images, labels = images[keep], labels[keep]
    X = images.float().div(255).unsqueeze(1)
    if normalize:
        X = (X - MEAN) / STD
    return X, labels


@dataclass(frozen=True)
class Recipe:
    """How to train: optimizer, learning rate, batch size, epochs, schedule, input normalisation."""

    name: str
    optimizer: str  # a key of OPTIMIZERS
    lr: float
    batch_size: int
    epochs: int
    schedule: str = "constant"  # "constant" or "one-cycle" (OneCycleLR stepped every batch, peak lr = `lr`)
    normalize: bool = False
    channels_last: bool = False  # the network's 4-d weights and the images stored channels-last (NHWC)
    bf16: bool = False  # train_epoch under bfloat16 autocast, where the device computes in bf16 natively
    fused: bool = False  # the optimizer's fused step (one kernel per tensor), where PyTorch has one

    def describe(self) -> str:
        speed = [
            name
            for name, on in (
                ("channels-last", self.channels_last),
                ("bf16 autocast where native", self.bf16),
                ("fused step", self.fused),
            )
            if on
        ]
        return (
            f"{self.name}: {self.optimizer}, lr {self.lr:g}"
            + (" (one-cycle)" if self.schedule == "one-cycle" else "")
            + f", batch {self.batch_size}, {self.epochs} epochs, "
            + ("standardised" if self.normalize else "raw [0, 1]")
            + " inputs"
            + (f"; {', '.join(speed)}" if speed else "")
        )


def bf16_native(device: torch.device | str = "cpu") -> bool:
    """True when `device` computes in bfloat16 in hardware: a CUDA GPU that supports it, or a CPU with
    AVX-512 BF16 or AMX instructions. Elsewhere bf16 is emulated and slower than float32."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a PyTorch without these probes
        return False


#: Source post 003's recipe: the ReLU LeNet, SGD lr 0.5, batch 256, 10 epochs, raw inputs (test accuracy 0.887 there).
BASELINE_RECIPE = Recipe("baseline", "SGD", 0.5, 256, 10)
#: The course's recipe: the same network, standardised inputs, Adam with a one-cycle schedule, 5 epochs, and the
#: three switches that speed each batch up (chosen on the validation split: benchmarks/lenet.py).
COURSE_RECIPE = Recipe(
    "course", "Adam", 3e-3, 128, 5, schedule="one-cycle", normalize=True, channels_last=True, bf16=True, fused=True
)

#: The optimizers of source post 004, by name: params, lr -> optimizer.
OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "SGD": lambda params, lr: torch.optim.SGD(params, lr=lr),
    "momentum": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
    "Adagrad": lambda params, lr: torch.optim.Adagrad(params, lr=lr),
    "RMSProp": lambda params, lr: torch.optim.RMSprop(params, lr=lr),
    "Adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
}


class ScheduledOptimizer:
    """An optimizer whose ``step()`` also steps a per-batch learning-rate schedule.

    The student's ``train_epoch`` calls ``optimizer.zero_grad()`` and ``optimizer.step()`` as usual and
    the schedule follows; everything else is the wrapped optimizer's.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, scheduler) -> None:
        self.optimizer, self.scheduler = optimizer, scheduler

    def step(self, closure=None):
        result = self.optimizer.step(closure)
        self.scheduler.step()
        return result

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def __getattr__(self, name: str):
        return getattr(self.optimizer, name)


def gradient_norms(
    net: nn.Module, X: torch.Tensor, y: torch.Tensor, loss_fn: Callable | None = None
) -> dict[str, float]:
    """Norm of the loss's gradient for each weight tensor of `net` (biases left out), first layer first.

    One forward and backward pass on the batch X (N, ...), labels y (N,); `loss_fn` defaults to cross
    entropy. The network's own gradients are left untouched.
    """
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    weights = {name: p for name, p in net.named_parameters() if name.endswith("weight")}
    grads = torch.autograd.grad(loss_fn(net(X), y), list(weights.values()))
    return {name.removesuffix(".weight"): float(g.norm()) for name, g in zip(weights, grads)}


#: The optimizers of OPTIMIZERS that have a fused step in PyTorch, and how to ask for it.
FUSED = {"Adam": lambda params, lr: torch.optim.Adam(params, lr=lr, fused=True)}


def make_optimizer(net: nn.Module, recipe: Recipe, steps: int):
    """The recipe's optimizer for `net`, wrapped with its schedule when it has one (`steps` batches in all)."""
    if recipe.optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {recipe.optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
    make = FUSED.get(recipe.optimizer, OPTIMIZERS[recipe.optimizer]) if recipe.fused else OPTIMIZERS[recipe.optimizer]
    optimizer = make(net.parameters(), recipe.lr)
    if recipe.schedule == "constant":
        return optimizer
    if recipe.schedule == "one-cycle":
        return ScheduledOptimizer(
            optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.lr, total_steps=steps)
        )
    raise ValueError(f"unknown schedule {recipe.schedule!r}; use 'constant' or 'one-cycle'")


class RecordingLoss(nn.Module):
    """Cross entropy that remembers every batch's loss (for per-batch curves), however the loop calls it."""

    def __init__(self) -> None:
        super().__init__()
        self.losses: list[float] = []

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = nn.functional.cross_entropy(logits, target)
        self.losses.append(float(loss.detach()))
        return loss


@dataclass
class Epoch:
    """One epoch of ``fit``: what the student's functions returned, the test and validation accuracies, and
    the training time so far (``validation_accuracy`` is None when ``fit`` trained on all 60,000 images)."""

    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float
    seconds: float
    validation_accuracy: float | None = None


def fit(
    net: nn.Module,
    recipe: Recipe,
    train_epoch: Callable,
    evaluate_accuracy: Callable,
    *,
    train_subset: int | None = None,
    test_subset: int | None = None,
    epochs: int | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
    loss_fn: nn.Module | None = None,
    on_epoch: Callable[[Epoch], None] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    validation: bool = True,
) -> list[Epoch]:
    """Train `net` with `recipe` using the student's `train_epoch(net, loader, loss_fn, optimizer)` and
    `evaluate_accuracy(net, loader)`; returns one Epoch per epoch (also passed to `on_epoch`).

    With `validation` (the default) it trains on the split "train-without-validation" (55,000 images) and
    measures each epoch on the held-out "validation" split as well as on the test set: recipes are compared
    on the validation accuracy, and the test accuracy is the one to report, once, at the end. Without it,
    it trains on all 60,000. Seeded (`seed`): the same data order, the same result on the same machine.
    The data, the net and the batches live on `device` (default: CUDA if present). `train_subset`,
    `test_subset` (which also caps the validation images) and `epochs` shorten the run (quick mode).
    The recipe's ``channels_last``, ``bf16`` (only where ``bf16_native``) and ``fused`` apply here, around
    the student's loop, which does not change. `seconds` is wall time of training only, cumulative.
    """
    device = torch.device(device) if device is not None else choose_device()
    seed_everything(seed)
    X, y = fashion_mnist("train-without-validation" if validation else "train", recipe.normalize, train_subset, seed)
    X_test, y_test = fashion_mnist("test", recipe.normalize, test_subset, seed)
    memory_format = torch.channels_last if recipe.channels_last else torch.contiguous_format
    X = X.contiguous(memory_format=memory_format)
    train = TensorLoader(X, y, recipe.batch_size, shuffle=True, seed=seed, device=device)
    train.on_batch = _reporting((epochs or recipe.epochs) * len(train), recipe.name, on_batch)
    test = TensorLoader(X_test, y_test, 1000, device=device)
    held_out = None
    if validation:
        X_val, y_val = fashion_mnist("validation", recipe.normalize, test_subset, seed)
        held_out = TensorLoader(X_val, y_val, 1000, device=device)
    epochs = epochs or recipe.epochs
    recipe = replace(recipe, epochs=epochs)
    net.to(device, memory_format=memory_format)
    optimizer = make_optimizer(net, recipe, epochs * len(train))
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    bf16 = recipe.bf16 and bf16_native(device)
    history: list[Epoch] = []
    elapsed = 0.0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        # no weight cache: it would keep the first batch's bf16 copy of the weights for the whole epoch
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16, cache_enabled=False):
            loss, train_accuracy = train_epoch(net, train, loss_fn, optimizer)
        if device.type == "cuda":
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - start
        record = Epoch(
            epoch,
            float(loss),
            float(train_accuracy),
            float(evaluate_accuracy(net, test)),
            elapsed,
            float(evaluate_accuracy(net, held_out)) if held_out is not None else None,
        )
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
    return history


class GradientRecorder:
    """An optimizer that, before each ``step()``, records the gradient norm of every weight tensor of `net`.

    Wraps the optimizer the student's ``train_epoch`` is given, so the student's own loop is watched
    without a change. ``norms`` maps each layer's name (as in ``gradient_norms``) to one value per step.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, net: nn.Module) -> None:
        self.optimizer = optimizer
        self.weights = {
            name.removesuffix(".weight"): p for name, p in net.named_parameters() if name.endswith("weight")
        }
        self.norms: dict[str, list[float]] = {name: [] for name in self.weights}

    def step(self, closure=None):
        for name, p in self.weights.items():
            self.norms[name].append(float(p.grad.norm()) if p.grad is not None else 0.0)
        return self.optimizer.step(closure)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def __getattr__(self, name: str):
        return getattr(self.optimizer, name)


@dataclass
class Watched:
    """One short training run watched batch by batch: losses, per-layer gradient norms, test accuracy, the net."""

    losses: list[float]
    gradient_norms: dict[str, list[float]]
    test_accuracy: float
    net: nn.Module


def watch_training(
    build: Callable[[], nn.Module],
    train_epoch: Callable,
    evaluate_accuracy: Callable,
    *,
    batches: int = 200,
    batch_size: int = 128,
    optimizer: str = "SGD",
    lr: float = 0.5,
    seed: int = 0,
    test_subset: int = 2000,
    name: str = "",
) -> Watched:
    """Seed, then train a new `build()` for `batches` batches of standardised Fashion-MNIST (from the split
    "train-without-validation") with the student's
    `train_epoch` (one epoch over ``batches * batch_size`` training images) and record every batch's loss and
    each layer's gradient norm; then `evaluate_accuracy` on `test_subset` test images.
    COURSE_QUICK: 10 batches, 500 test images.
    Seeded: the same images, order and result on the same machine. Reports to the active ``Progress`` as
    run `name`.
    """
    if quick():
        batches, test_subset = min(batches, 10), min(test_subset, 500)
    seed_everything(seed)
    net = build()
    X, y = fashion_mnist("train-without-validation", True, batches * batch_size, seed)
    X_test, y_test = fashion_mnist("test", True, test_subset, seed)
    recorder = GradientRecorder(OPTIMIZERS[optimizer](net.parameters(), lr), net)
    loss_fn = RecordingLoss()
    loader = TensorLoader(X, y, batch_size, shuffle=True, seed=seed)
    loader.on_batch = _reporting(len(loader), name, None)
    train_epoch(net, loader, loss_fn, recorder)
    accuracy = float(evaluate_accuracy(net, TensorLoader(X_test, y_test, 1000)))
    return Watched(loss_fn.losses, recorder.norms, accuracy, net)


def quadratic_paths(
    momentum_step: Callable | None = None,
    adam_step: Callable | None = None,
    steps: int = 20,
    lr: float = 0.1,
    target: float = 3.0,
) -> dict[str, list[float]]:
    """w after each step on L(w) = (w - target)^2 from w = 0, by ``torch.optim`` (SGD, SGD with momentum 0.9,
    Adam) and, when given, by 06's ``momentum_step`` and ``adam_step`` (entries "momentum (yours)", "Adam (yours)")."""
    paths: dict[str, list[float]] = {}
    for name, make in (("SGD", OPTIMIZERS["SGD"]), ("momentum", OPTIMIZERS["momentum"]), ("Adam", OPTIMIZERS["Adam"])):
        w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        optimizer = make([w], lr)
        paths[name] = []
        for _ in range(steps):
            w.grad = 2 * (w.detach() - target)
            optimizer.step()
            paths[name].append(float(w.detach()))
    if momentum_step is not None:
        w, v = torch.zeros(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
        paths["momentum (yours)"] = []
        for _ in range(steps):
            w, v = momentum_step(w, 2 * (w - target), v, lr)
            paths["momentum (yours)"].append(float(w))
    if adam_step is not None:
        w, m, s = (torch.zeros(1, dtype=torch.float64) for _ in range(3))
        paths["Adam (yours)"] = []
        for t in range(1, steps + 1):
            w, m, s = adam_step(w, 2 * (w - target), m, s, t, lr)
            paths["Adam (yours)"].append(float(w))
    return paths


def watch_runs(
    builds: dict[str, Callable[[], nn.Module]],
    train_epoch: Callable,
    evaluate_accuracy: Callable,
    title: str = "",
    **options,
) -> dict[str, Watched]:
    """``watch_training`` for each network of `builds` (name -> build), same seed and batches, under one
    ``Progress`` (progress and time left in the notebook). `options` go to ``watch_training``."""
    with Progress(title, runs=len(builds)):
        return {
            name: watch_training(build, train_epoch, evaluate_accuracy, name=name, **options)
            for name, build in builds.items()
        }


#: Initialisations ``initialise`` knows: weight init for every Conv2d and Linear layer (biases set to 0).
INITIALISATIONS: dict[str, Callable[[torch.Tensor], object] | None] = {
    "default": None,  # PyTorch's own: uniform in +-1/sqrt(fan_in) (kaiming_uniform_ with a=sqrt(5)), biases too
    "Xavier": nn.init.xavier_uniform_,  # uniform in +-sqrt(6 / (fan_in + fan_out)): keeps the variance through a layer
    "Kaiming": lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),  # +-sqrt(6 / fan_in): made for ReLU
}


def initialise(net: nn.Module, scheme: str) -> nn.Module:
    """Re-initialise `net`'s Conv2d and Linear weights with `scheme` (a key of INITIALISATIONS), biases to 0,
    in place; "default" leaves PyTorch's initialisation. Returns `net`."""
    if scheme not in INITIALISATIONS:
        raise ValueError(f"unknown initialisation {scheme!r}; choose one of {', '.join(INITIALISATIONS)}")
    init = INITIALISATIONS[scheme]
    if init is None:
        return net
    for module in net.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            init(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return net


def with_activation(net: nn.Module, old: type[nn.Module], new: Callable[[], nn.Module]) -> nn.Module:
    """A copy of `net` (same weights) with every layer of type `old` replaced by ``new()``: the same network
    with only its activation changed."""
    copy = deepcopy(net)
    for parent in copy.modules():
        for child_name, child in parent.named_children():
            if isinstance(child, old):
                setattr(parent, child_name, new())
    return copy


class BatchNorm(nn.Module):
    """Batch normalisation by a given function, as ``nn.BatchNorm2d`` (input (N, C, H, W)) or ``nn.BatchNorm1d``
    (input (N, C)) keep it: a learned scale ``weight`` (ones) and shift ``bias`` (zeros), and the running mean
    (zeros) and variance (ones) as buffers, all of shape (C,).

    `batch_norm(X, gamma, beta, running_mean, running_var, training, momentum, eps)` normalises X (N, C, H, W) and
    updates the running statistics in place in training mode (06's ``batch_norm2d``); an (N, C) input is given
    to it as (N, C, 1, 1)."""

    def __init__(self, num_features: int, batch_norm: Callable, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.batch_norm, self.momentum, self.eps = batch_norm, momentum, eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        flat = X.ndim == 2
        stats = (self.running_mean, self.running_var)
        out = self.batch_norm(
            X[:, :, None, None] if flat else X, self.weight, self.bias, *stats, self.training, self.momentum, self.eps
        )
        for buffer in stats:  # an update computed from the batch with its graph would keep every batch's graph alive
            buffer.detach_()
        return out[:, :, 0, 0] if flat else out

    def extra_repr(self) -> str:
        name = getattr(self.batch_norm, "__name__", "batch_norm")
        return f"{self.weight.shape[0]}, {name}, momentum={self.momentum}, eps={self.eps}"


def with_batch_norm(net: nn.Sequential, batch_norm: Callable | None = None) -> nn.Sequential:
    """A copy of the ``nn.Sequential`` `net` with batch normalisation after every Conv2d and Linear layer but
    the last, before its activation: d2l's "LeNet with batch normalisation" (section 8.5) when `net` is d2l's
    LeNet. Without `batch_norm`, torch's layers (``BatchNorm2d`` after a convolution, ``BatchNorm1d`` after a
    dense layer); with it, a ``BatchNorm`` layer that calls that function (06's ``batch_norm2d``) in each place."""
    layers = list(deepcopy(net))
    last = max(i for i, layer in enumerate(layers) if isinstance(layer, nn.Conv2d | nn.Linear))
    out: list[nn.Module] = []
    for i, layer in enumerate(layers):
        out.append(layer)
        if i == last or not isinstance(layer, nn.Conv2d | nn.Linear):
            continue
        features = layer.out_channels if isinstance(layer, nn.Conv2d) else layer.out_features
        if batch_norm is not None:
            out.append(BatchNorm(features, batch_norm))
        elif isinstance(layer, nn.Conv2d):
            out.append(nn.BatchNorm2d(features))
        else:
            out.append(nn.BatchNorm1d(features))
    return nn.Sequential(*out)


def initial_loss(net: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Cross entropy of `net` on (X, y) without training or gradients: for a freshly initialised classifier of
    ten classes it should be close to ln 10 = 2.303 (every class about equally likely)."""
    net.eval()
    with torch.no_grad():
        return float(nn.functional.cross_entropy(net(X), y))


@dataclass
class Overfit:
    """``overfit``'s run: per epoch, the mean training loss and the training accuracy on the few images."""

    losses: list[float]
    accuracies: list[float]

    def first_perfect_epoch(self) -> int | None:
        """The first epoch (from 1) whose training accuracy is 1.0, or None."""
        return next((e for e, a in enumerate(self.accuracies, 1) if a == 1.0), None)


def overfit(
    build: Callable[[], nn.Module],
    train_epoch: Callable,
    images: int = 100,
    epochs: int = 60,
    batch_size: int = 25,
    lr: float = 1e-3,
    seed: int = 0,
) -> Overfit:
    """Seed, then train a new `build()` with the student's `train_epoch` on only `images` training images
    (Adam, `lr`), `epochs` times over: a network and loop that work drive the loss to almost 0 and the accuracy
    to 1.0 (CS231n's second sanity check: if it can't overfit a hundred images, something is broken).
    COURSE_QUICK: 5 epochs. Reports to the active ``Progress``."""
    if quick():
        epochs = min(epochs, 5)
    seed_everything(seed)
    net = build()
    X, y = fashion_mnist("train-without-validation", True, images, seed)
    loader = TensorLoader(X, y, batch_size, shuffle=True, seed=seed)
    loader.on_batch = _reporting(epochs * len(loader), "overfit", None)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    run = Overfit([], [])
    for _ in range(epochs):
        loss, accuracy = train_epoch(net, loader, nn.CrossEntropyLoss(), optimizer)
        run.losses.append(float(loss))
        run.accuracies.append(float(accuracy))
    return run
