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
from dataclasses import dataclass, replace

import torch
from torch import nn

from course_utils import data

__all__ = [
    "BASELINE_RECIPE",
    "COURSE_RECIPE",
    "MEAN",
    "OPTIMIZERS",
    "STD",
    "Epoch",
    "GradientRecorder",
    "Recipe",
    "RecordingLoss",
    "ScheduledOptimizer",
    "TensorLoader",
    "Watched",
    "choose_device",
    "fashion_mnist",
    "fit",
    "gradient_norms",
    "make_optimizer",
    "quadratic_paths",
    "quick",
    "seed_everything",
    "set_threads",
    "setup",
    "watch_training",
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

    `subset` keeps that many images, chosen at random with `seed` (the same ones every time).
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

    def describe(self) -> str:
        return (
            f"{self.name}: {self.optimizer}, lr {self.lr:g}"
            + (" (one-cycle)" if self.schedule == "one-cycle" else "")
            + f", batch {self.batch_size}, {self.epochs} epochs, "
            + ("standardised" if self.normalize else "raw [0, 1]")
            + " inputs"
        )


#: Source post 003's recipe: the ReLU LeNet, SGD lr 0.5, batch 256, 10 epochs, raw inputs (test accuracy 0.887 there).
BASELINE_RECIPE = Recipe("baseline", "SGD", 0.5, 256, 10)
#: The course's recipe: the same network, standardised inputs, Adam with a one-cycle schedule, 4 epochs.
COURSE_RECIPE = Recipe("course", "Adam", 3e-3, 128, 4, schedule="one-cycle", normalize=True)

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


def make_optimizer(net: nn.Module, recipe: Recipe, steps: int):
    """The recipe's optimizer for `net`, wrapped with its schedule when it has one (`steps` batches in all)."""
    if recipe.optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {recipe.optimizer!r}; choose one of {sorted(OPTIMIZERS)}")
    optimizer = OPTIMIZERS[recipe.optimizer](net.parameters(), recipe.lr)
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
    """One epoch of ``fit``: what the student's functions returned, the test accuracy and the time."""

    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float
    seconds: float


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
) -> list[Epoch]:
    """Train `net` with `recipe` using the student's `train_epoch(net, loader, loss_fn, optimizer)` and
    `evaluate_accuracy(net, loader)`; returns one Epoch per epoch (also passed to `on_epoch`).

    Seeded (`seed`): the same data order, the same result on the same machine. The data, the net and
    the batches live on `device` (default: CUDA if present). `train_subset`/`test_subset`/`epochs`
    shorten the run (quick mode). `seconds` is wall time of training only, cumulative.
    """
    device = torch.device(device) if device is not None else choose_device()
    seed_everything(seed)
    X, y = fashion_mnist("train", recipe.normalize, train_subset, seed)
    X_test, y_test = fashion_mnist("test", recipe.normalize, test_subset, seed)
    train = TensorLoader(X, y, recipe.batch_size, shuffle=True, seed=seed, device=device, on_batch=on_batch)
    test = TensorLoader(X_test, y_test, 1000, device=device)
    epochs = epochs or recipe.epochs
    recipe = replace(recipe, epochs=epochs)
    net.to(device)
    optimizer = make_optimizer(net, recipe, epochs * len(train))
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    history: list[Epoch] = []
    elapsed = 0.0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        loss, train_accuracy = train_epoch(net, train, loss_fn, optimizer)
        if device.type == "cuda":
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - start
        record = Epoch(epoch, float(loss), float(train_accuracy), float(evaluate_accuracy(net, test)), elapsed)
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
) -> Watched:
    """Seed, then train a new `build()` for `batches` batches of standardised Fashion-MNIST with the student's
    `train_epoch` (one epoch over ``batches * batch_size`` training images) and record every batch's loss and
    each layer's gradient norm; then `evaluate_accuracy` on `test_subset` test images.
    COURSE_QUICK: 20 batches, 500 test images.
    Seeded: the same images, order and result on the same machine.
    """
    if quick():
        batches, test_subset = min(batches, 20), min(test_subset, 500)
    seed_everything(seed)
    net = build()
    X, y = fashion_mnist("train", True, batches * batch_size, seed)
    X_test, y_test = fashion_mnist("test", True, test_subset, seed)
    recorder = GradientRecorder(OPTIMIZERS[optimizer](net.parameters(), lr), net)
    loss_fn = RecordingLoss()
    train_epoch(net, TensorLoader(X, y, batch_size, shuffle=True, seed=seed), loss_fn, recorder)
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
