"""course_utils.training: data, loaders, recipes, schedules, and a reproducible fit with plain functions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import torch
from torch import nn

from conftest import ROOT
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
    kernel = app.config.Execute.kernel_name
    Execute(config=app.config).preprocess(nb, {"metadata": {"path": here}})
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
