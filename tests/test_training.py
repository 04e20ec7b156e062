"""course_utils.training: data, loaders, recipes, schedules, and a reproducible fit with plain functions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nbformat
import pytest
import torch
from torch import nn

from conftest import ROOT, source_notebook
from course_utils import data, training


def _train_epoch(net, loader, loss_fn, optimizer):
    """A plain loop written here (the exercise's answer lives only in source/06_lenet)."""
    net.train()
    losses, right, seen = 0.0, 0, 0
    for X, y in loader:
        out = net(X)
        loss = loss_fn(out, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses += loss.item() * len(y)
        right += int((out.argmax(1) == y).sum())
        seen += len(y)
    return losses / seen, right / seen


def _evaluate(net, loader):
    net.eval()
    with torch.no_grad():
        pairs = [(int((net(X).argmax(1) == y).sum()), len(y)) for X, y in loader]
    return sum(p[0] for p in pairs) / sum(p[1] for p in pairs)


def _linear():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def test_mean_and_std_are_the_training_sets():
    images, _ = data.load_fashion_mnist("train")
    pixels = images.double() / 255
    assert float(pixels.mean()) == pytest.approx(training.MEAN, abs=5e-4)
    assert float(pixels.std()) == pytest.approx(training.STD, abs=5e-4)


def test_fashion_mnist_tensors_and_subsets():
    X, y = training.fashion_mnist("test", normalize=False)
    images, labels = data.load_fashion_mnist("test")
    assert X.shape == (10000, 1, 28, 28) and X.dtype == torch.float32
    assert torch.equal(X[:, 0], images.float() / 255) and torch.equal(y, labels)
    Xn, _ = training.fashion_mnist("test", normalize=True)
    assert torch.allclose(Xn, (X - training.MEAN) / training.STD)
    a, ya = training.fashion_mnist("train", subset=500, seed=3)
    b, yb = training.fashion_mnist("train", subset=500, seed=3)
    c, _ = training.fashion_mnist("train", subset=500, seed=4)
    assert a.shape == (500, 1, 28, 28) and torch.equal(a, b) and torch.equal(ya, yb) and not torch.equal(a, c)


def test_tensor_loader_covers_every_sample_once_in_a_seeded_order():
    X, y = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    calls = []
    loader = training.TensorLoader(X, y, 4, shuffle=True, seed=1, on_batch=lambda i, n: calls.append((i, n)))
    batches = list(loader)
    assert len(loader) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat([b[1] for b in batches]).tolist()) == list(range(10))
    assert all(torch.equal(bx[:, 0].long(), by) for bx, by in batches)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    again = training.TensorLoader(X, y, 4, shuffle=True, seed=1)
    assert [b[1].tolist() for b in again] == [b[1].tolist() for b in batches]
    assert [b[1].tolist() for b in training.TensorLoader(X, y, 4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    with pytest.raises(ValueError, match="10 samples but y has 9"):
        training.TensorLoader(X, y[:9], 4)


def test_one_cycle_schedule_steps_with_the_students_optimizer_step():
    net = _linear()
    optimizer = training.make_optimizer(net, training.COURSE_RECIPE, steps=100)
    assert isinstance(optimizer, training.ScheduledOptimizer)
    reference = torch.optim.lr_scheduler.OneCycleLR(
        torch.optim.Adam(_linear().parameters(), lr=3e-3), max_lr=3e-3, total_steps=100
    )
    lrs, expected = [], []
    for _ in range(40):
        net(torch.zeros(1, 1, 28, 28)).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
        lrs.append(optimizer.param_groups[0]["lr"])
        reference.optimizer.step()
        reference.step()
        expected.append(reference.optimizer.param_groups[0]["lr"])
    assert lrs == pytest.approx(expected)
    assert max(lrs) == pytest.approx(3e-3, rel=0.01) and lrs[0] < 1e-3
    sgd = training.make_optimizer(net, training.BASELINE_RECIPE, steps=10)
    assert isinstance(sgd, torch.optim.SGD) and sgd.param_groups[0]["lr"] == 0.5
    with pytest.raises(ValueError, match="'Nesterov'"):
        training.make_optimizer(net, training.Recipe("x", "Nesterov", 0.1, 8, 1), 10)


def test_fit_is_reproducible_and_uses_the_given_functions():
    recipe = training.Recipe("tiny", "SGD", 0.1, 64, 2, normalize=True)
    seen = []
    runs = []
    for _ in range(2):
        training.seed_everything(0)
        net = _linear()
        runs.append(
            training.fit(
                net,
                recipe,
                _train_epoch,
                _evaluate,
                train_subset=1000,
                test_subset=500,
                device="cpu",
                on_epoch=seen.append,
            )
        )
    first, second = runs
    assert [(e.loss, e.train_accuracy, e.test_accuracy) for e in first] == [
        (e.loss, e.train_accuracy, e.test_accuracy) for e in second
    ]
    assert len(first) == 2 and first[1].loss < first[0].loss and first[1].test_accuracy > 0.5
    assert seen[:2] == first
    # the test accuracy is what an independent evaluation of the same weights gives
    X, y = training.fashion_mnist("test", True, 500, seed=0)
    assert first[-1].test_accuracy == _evaluate(net, [(X, y)]) == second[-1].test_accuracy


def test_gradient_norms_are_autograds_per_weight_and_leave_the_net_alone():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.Sigmoid(), nn.Linear(5, 3))
    X, y = torch.randn(8, 1, 3, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    norms = training.gradient_norms(net, X, y)
    assert list(norms) == ["1", "3"] and all(p.grad is None for p in net.parameters())
    nn.functional.cross_entropy(net(X), y).backward()
    assert norms["1"] == pytest.approx(float(net[1].weight.grad.norm()))
    assert norms["3"] == pytest.approx(float(net[3].weight.grad.norm()))


def test_quick_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert training.quick()
    monkeypatch.setenv("COURSE_QUICK", "0")
    assert not training.quick()
    monkeypatch.delenv("COURSE_QUICK")
    assert not training.quick()


_KERNEL_QUICK = r"""
import os, sys
import nbformat
from nbclient import NotebookClient
from nbgrader.apps import NbGrader
from nbgrader.preprocessors import Execute

root, sys.argv = sys.argv[1], sys.argv[2:]  # sys.argv: what nbgrader_config.py sees (program, command)
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os; print(os.environ.get('COURSE_QUICK'))")])
here, kernel = os.getcwd(), "cnn-course"
if sys.argv[0] == "student":  # a kernel JupyterLab starts for a student: the course kernel, nothing added
    NotebookClient(nb, kernel_name=kernel, resources={"metadata": {"path": here}}).execute()
else:  # nbgrader's own Execute with the course's config, loaded the way the Validate button loads it:
    os.chdir(root)  # from nbgrader_config.py in the current folder
    app = NbGrader()
    app.load_config_file()
    os.chdir(here)
    resources = {"metadata": {"path": here}}
    step = Execute
    if sys.argv[1:] == ["autograde"]:  # autograde's first step, as nbgrader builds it, for a submission's notebook
        from traitlets.utils.importstring import import_item

        step = import_item(app.config.Autograde.autograde_preprocessors[0])
        db_url = "sqlite:///" + os.path.join(root, "gradebook.db")
        resources["nbgrader"] = {"db_url": db_url, "assignment": "01_convolution", "notebook": "01_convolution",
                                 "student": "student"}

    class Recording(step):  # the kernel it really starts
        def create_kernel_manager(self):
            km = super().create_kernel_manager()
            self.started = km.kernel_name
            return km

    execute = Recording(config=app.config)
    execute.preprocess(nb, resources)
    kernel = execute.started
print("KERNEL", kernel, nb.cells[0].outputs[0].text.strip())
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv, expected",
    [
        (["/x/bin/jupyter-lab"], "KERNEL cnn-course 1"),  # the Validate button and the formgrader, in the server
        (["/x/bin/nbgrader", "validate"], "KERNEL cnn-course 1"),
        (["/x/bin/nbgrader", "autograde"], "KERNEL cnn-course-grader 1"),  # and the sandbox it runs the code in
        (["student"], "KERNEL cnn-course None"),
    ],
)
def test_every_kernel_nbgrader_starts_runs_in_quick_mode_and_students_kernels_do_not(argv, expected, tmp_path):
    root, here = ROOT, tmp_path
    if "grader" in expected:  # the grading kernel needs a course with a gradebook, and runs in a submission's folder
        if shutil.which("bwrap") is None:
            pytest.skip("bubblewrap is not installed (make system-deps)")
        from conftest import make_course, nbgrader

        root = make_course(tmp_path / "course", ["01_convolution"])
        assert nbgrader("generate_assignment", "01_convolution", "--force", cwd=root).returncode == 0
        here = root / "autograded" / "student" / "01_convolution"
        here.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_QUICK", "JUPYTER_PATH")}
    out = subprocess.run(
        [sys.executable, "-c", _KERNEL_QUICK, str(root), *argv],
        cwd=here,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.stdout.strip().splitlines()[-1:] == [expected], (out.stdout, out.stderr[-3000:])


def test_setup_sets_threads_to_the_cpus_available_or_the_share_omp_num_threads_gives(monkeypatch):
    before = torch.get_num_threads()
    cpus = len(os.sched_getaffinity(0))
    try:
        for share, expected in (("", cpus), ("0", cpus), ("1", 1), (str(cpus + 4), cpus)):
            monkeypatch.setenv("OMP_NUM_THREADS", share)
            assert training.set_threads() == expected == torch.get_num_threads(), share
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert training.set_threads() == cpus == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)  # the other tests in this process keep their share (conftest.py)
    assert training.choose_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_the_validation_split_is_the_last_5000_training_images_and_fit_measures_on_it():
    train_x, train_y = data.load_fashion_mnist("train")
    val_x, val_y = data.load_fashion_mnist("validation")
    rest_x, rest_y = data.load_fashion_mnist("train-without-validation")
    assert data.VALIDATION_SIZE == 5000 and val_x.shape == (5000, 28, 28) and rest_x.shape == (55000, 28, 28)
    assert torch.equal(torch.cat([rest_x, val_x]), train_x) and torch.equal(torch.cat([rest_y, val_y]), train_y)
    assert set(data.SPLITS) == {"train", "test", "validation", "train-without-validation"}
    recipe = training.Recipe("tiny", "SGD", 0.1, 64, 1, normalize=True)
    training.seed_everything(0)
    net = _linear()
    (epoch,) = training.fit(net, recipe, _train_epoch, _evaluate, train_subset=500, test_subset=300, device="cpu")
    X_val, y_val = training.fashion_mnist("validation", True, 300, seed=0)
    assert epoch.validation_accuracy == _evaluate(net, [(X_val, y_val)]) and 0.3 < epoch.validation_accuracy < 1
    (whole,) = training.fit(_linear(), recipe, _train_epoch, _evaluate, train_subset=500, validation=False)
    assert whole.validation_accuracy is None


def test_the_fast_recipe_switches_change_how_not_what_it_learns():
    """channels_last, the fused step and bf16 autocast (around the student's whole loop, which once froze the
    weights' bf16 copy for an epoch: autocast's cache) each still learn, close to the plain float32 run."""
    base = training.Recipe("tiny", "Adam", 3e-3, 64, 2, schedule="one-cycle", normalize=True)
    conv = lambda: nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1152, 10))  # noqa: E731
    results = {}
    for name, switch in (
        ("plain", {}),
        ("channels_last", {"channels_last": True}),
        ("fused", {"fused": True}),
        ("bf16", {"bf16": True}),
    ):
        training.seed_everything(0)
        recipe = training.Recipe(**{**base.__dict__, **switch})
        history = training.fit(
            conv(), recipe, _train_epoch, _evaluate, train_subset=2000, test_subset=500, device="cpu"
        )
        results[name] = history
    plain = results["plain"]
    assert plain[1].loss < plain[0].loss and plain[1].validation_accuracy > 0.6
    for name, history in results.items():
        assert history[1].loss == pytest.approx(plain[1].loss, abs=0.05 if name == "bf16" else 1e-3), name
        assert history[1].validation_accuracy == pytest.approx(plain[1].validation_accuracy, abs=0.03), name
    fused = training.make_optimizer(_linear(), training.Recipe("f", "Adam", 1e-3, 8, 1, fused=True), 10)
    assert fused.defaults["fused"] is True
    assert "channels-last" in training.COURSE_RECIPE.describe()
    assert training.BASELINE_RECIPE == training.Recipe("baseline", "SGD", 0.5, 256, 10)  # source post 003's, as it is


def test_progress_counts_the_runs_and_batches_of_the_fits_inside_it():
    recipe = training.Recipe("tiny", "SGD", 0.1, 100, 2, normalize=True)
    texts = []
    with training.Progress("two runs", runs=2, interval=0) as progress:
        assert training.Progress.active() is progress
        for _ in range(2):
            training.fit(
                _linear(), recipe, _train_epoch, _evaluate, train_subset=300, test_subset=100,
                on_batch=lambda i, n: texts.append(progress.text),
            )  # fmt: skip
            assert progress.fraction == pytest.approx(progress.run / 2)
    assert training.Progress.active() is None
    assert progress.run == 2 and progress.done == progress.total == 6  # 2 epochs of 3 batches
    assert texts[0].startswith("two runs: run 1/2 (tiny) · 0/6 batches") and "s left" in texts[1]
    assert texts[-1].startswith("two runs: run 2/2 (tiny) · 5/6 batches")
    assert progress.text.startswith("two runs: done in")
    half = training.Progress("x", runs=4)
    half.begin(10)
    for _ in range(5):
        half.step()
    assert half.fraction == pytest.approx(0.125)
    with pytest.raises(ValueError, match="runs"):
        training.Progress(runs=0)


def test_initialise_with_activation_and_with_batch_norm():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Sigmoid(), nn.Flatten(), nn.Linear(6 * 24 * 24, 10))
    default = [p.detach().clone() for p in net.parameters()]
    assert training.initialise(net, "default") is net and all(
        torch.equal(a, b) for a, b in zip(default, net.parameters())
    )
    training.initialise(net, "Xavier")
    bound = (6 / (25 + 6 * 25)) ** 0.5  # conv: fan_in 1*25, fan_out 6*25
    top = float(net[0].weight.detach().abs().max())
    assert 0.9 * bound < top <= bound
    assert not net[0].bias.detach().any() and not net[3].bias.detach().any()
    training.initialise(net, "Kaiming")
    assert float(net[0].weight.detach().abs().max()) <= (6 / 25) ** 0.5
    with pytest.raises(ValueError, match="'He'"):
        training.initialise(net, "He")
    relu = training.with_activation(net, nn.Sigmoid, nn.ReLU)
    assert isinstance(relu[1], nn.ReLU) and isinstance(net[1], nn.Sigmoid)
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), relu.parameters()))
    bn = training.with_batch_norm(net)
    assert [type(m) for m in bn] == [nn.Conv2d, nn.BatchNorm2d, nn.Sigmoid, nn.Flatten, nn.Linear]
    assert bn[1].num_features == 6


def test_with_batch_norm_given_a_function_trains_as_torchs_layers(lenets):
    """with_batch_norm(net, batch_norm=...) puts a BatchNorm layer that calls the given function where torch's
    BatchNorm2d/1d go; with 06's batch_norm2d (the solution) it is torch's network, step for step: the same
    outputs, gradients and running statistics after three SGD steps, then the same outputs in eval mode."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.Sigmoid(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5), nn.Sigmoid(), nn.Linear(5, 3)
    )
    net = net.double()
    torchs = training.with_batch_norm(net).double()
    mine = training.with_batch_norm(net, batch_norm=lenets["batch_norm2d"]).double()
    assert [type(m) for m in mine] == [
        nn.Conv2d,
        training.BatchNorm,
        nn.Sigmoid,
        nn.Flatten,
        nn.Linear,
        training.BatchNorm,
        nn.Sigmoid,
        nn.Linear,
    ]
    assert "batch_norm2d" in repr(mine[1])
    gen = torch.Generator().manual_seed(1)
    X, y = torch.randn(16, 1, 8, 8, generator=gen, dtype=torch.float64), torch.randint(0, 3, (16,), generator=gen)
    optimizers = [torch.optim.SGD(n.parameters(), lr=0.5) for n in (torchs, mine)]
    for _ in range(3):
        outs = []
        for n, opt in zip((torchs, mine), optimizers):
            n.train()
            out = n(X)
            opt.zero_grad()
            nn.functional.cross_entropy(out, y).backward()
            opt.step()
            outs.append(out.detach())
        torch.testing.assert_close(outs[1], outs[0])
    for i in (1, 5):
        torch.testing.assert_close(mine[i].running_mean, torchs[i].running_mean)
        torch.testing.assert_close(mine[i].running_var, torchs[i].running_var)
        assert not mine[i].running_mean.requires_grad and mine[i].running_mean.grad_fn is None
    for a, b in zip(torchs.parameters(), mine.parameters()):
        torch.testing.assert_close(b.detach(), a.detach())
    with torch.no_grad():
        torch.testing.assert_close(mine.eval()(X), torchs.eval()(X))


@pytest.fixture(scope="module")
def lenets():
    """06's networks, from the solution cells of the source notebook (their only home)."""
    from course_utils.figures import _solutions

    return _solutions("06_lenet")


def test_one_lenet_with_only_its_activation_changed_gets_about_58_times_more_gradient_in_its_first_layer(lenets):
    """06's claim: the sigmoid LeNet's first layer gets about 58 times less gradient than the same LeNet, same
    weights, with ReLU in place of each sigmoid; across the two different architectures it would be about 245
    (measured: 58.4 and 245.5, seed 0, 256 test images)."""
    X, y = training.fashion_mnist("test", normalize=True)
    training.seed_everything(0)
    sigmoid = lenets["build_lenet"]()
    relu = training.with_activation(sigmoid, nn.Sigmoid, nn.ReLU)
    a, b = (training.gradient_norms(net, X[:256], y[:256]) for net in (sigmoid, relu))
    assert 55 < b["0"] / a["0"] < 62, b["0"] / a["0"]
    training.seed_everything(0)
    other = training.gradient_norms(lenets["build_lenet_relu"](), X[:256], y[:256])
    assert 235 < other["0"] / a["0"] < 255, other["0"] / a["0"]
    text = {c.id: " ".join(c.source.split()) for c in nbformat.read(source_notebook("06_lenet"), as_version=4).cells}
    assert "first layer gets about 58 times less" in text["md-lenet1998"]
    assert "the factor of about **58** at the first layer" in text["md-lenet1998"]
    assert "ReLU LeNet gets about 245 times the sigmoid LeNet's" in text["md-lenet1998"]
    assert "cutting the first layer's gradient about 58 times" in text["md-sigmoid-train"]


@pytest.mark.slow  # two runs of 60 epochs over 100 images (about 15 s)
def test_the_two_sanity_checks_initial_loss_ln_10_and_overfitting_100_images(lenets, monkeypatch):
    """06's numbers: both fresh LeNets start within 0.03 of ln 10; the ReLU LeNet fits 100 images perfectly
    within 40 epochs (loss under 0.05 after 60); the sigmoid LeNet, PyTorch's initialisation, does not."""
    import math

    monkeypatch.delenv("COURSE_QUICK", raising=False)
    X, y = training.fashion_mnist("test", normalize=True)
    for build in ("build_lenet", "build_lenet_relu"):
        training.seed_everything(0)
        assert abs(training.initial_loss(lenets[build](), X[:1000], y[:1000]) - math.log(10)) < 0.03, build
    relu = training.overfit(lenets["build_lenet_relu"], lenets["train_epoch"])
    assert relu.first_perfect_epoch() is not None and relu.first_perfect_epoch() <= 40 and relu.losses[-1] < 0.05
    sigmoid = training.overfit(lenets["build_lenet"], lenets["train_epoch"])
    assert sigmoid.first_perfect_epoch() is None and 0.3 < sigmoid.accuracies[-1] < 0.7


@pytest.mark.slow  # five runs of 200 batches of the sigmoid LeNet (about 40 s on one core)
def test_xavier_kaiming_and_batch_norm_rescue_the_sigmoid_lenet(lenets, monkeypatch):
    """06's numbers for 200 batches of SGD at lr 0.5 (0.10, 0.50, 0.58 and 0.80 there): PyTorch's default
    initialisation stays at chance, Xavier and Kaiming get to about half right, batch normalisation (06's own
    batch_norm2d in each place, as the notebook's demo) to 0.8;
    Xavier's and Kaiming's first layers start with about 20 and 30 times the default's gradient."""
    monkeypatch.delenv("COURSE_QUICK", raising=False)
    build, args = lenets["build_lenet"], (lenets["train_epoch"], lenets["evaluate_accuracy"])
    runs = training.watch_runs(
        {
            **{s: (lambda s=s: training.initialise(build(), s)) for s in training.INITIALISATIONS},
            "batch norm": lambda: training.with_batch_norm(build(), batch_norm=lenets["batch_norm2d"]),
        },
        *args,
    )
    accuracy = {name: run.test_accuracy for name, run in runs.items()}
    assert accuracy["default"] < 0.15 and 0.45 < accuracy["Xavier"] < 0.55 and 0.53 < accuracy["Kaiming"] < 0.63
    assert 0.75 < accuracy["batch norm"] < 0.85
    first = {name: run.gradient_norms["0"][0] for name, run in runs.items()}
    assert 15 < first["Xavier"] / first["default"] < 25 and 25 < first["Kaiming"] / first["default"] < 35


def test_the_course_recipes_one_cycle_schedule_also_cycles_adams_beta1():
    """06: 'the learning rate climbs to 0.003 over the first 30 % of the batches, then anneals to almost 0 ...
    With Adam, PyTorch's OneCycleLR also cycles β1 the other way, from 0.95 down to 0.85 while the rate climbs
    and back' (the course recipe's optimizer, read at each of 100 batches)."""
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    steps = 100
    optimizer = training.make_optimizer(net, training.COURSE_RECIPE, steps)
    lrs, beta1s = [], []
    for _ in range(steps):
        group = optimizer.param_groups[0]
        lrs.append(group["lr"])
        beta1s.append(group["betas"][0])
        net(torch.randn(4, 3)).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
    peak = lrs.index(max(lrs))
    assert max(lrs) == pytest.approx(3e-3) and peak == pytest.approx(0.3 * steps, abs=1) and lrs[-1] < 1e-6
    assert beta1s[0] == pytest.approx(0.95) and beta1s[peak] == pytest.approx(0.85)
    assert beta1s[-1] == pytest.approx(0.95, abs=1e-3)
    assert all(a >= b for a, b in zip(beta1s[: peak + 1], beta1s[1 : peak + 1]))  # down while the rate climbs
    assert all(a <= b for a, b in zip(beta1s[peak:], beta1s[peak + 1 :]))  # and back up while it anneals
    assert optimizer.param_groups[0]["betas"][1] == 0.999  # beta2 is left alone
    text = " ".join(" ".join(c.source.split()) for c in nbformat.read(source_notebook("06_lenet"), as_version=4).cells)
    assert "With Adam, PyTorch's `OneCycleLR` also cycles $\\beta_1$ the other way, from 0.95 down to 0.85" in text
