"""Off-limits operations, switched off for good inside a grading sandbox (runs in the sandbox only).

The grader installs this before the first line of a student's code runs, for the groups the
assignment's tests name (``forbid=(...)``). Each ban acts on the whole process, every thread and
every later fork, and nothing in it can be switched back on:

* torch ops (convolution, pooling, padding, sigmoid/softmax, losses, normalisation; every namespace: ``aten``,
  ``mkldnn``, ``quantized`` ...) get a kernel that raises, registered in torch's dispatcher for the
  CPU backends and the composite keys. ``F.conv2d``, ``nn.Conv2d``, ``torch.ops.aten.convolution``,
  ``torch._C._nn.*``, a captured alias, another thread, disabled torch modes and redispatch all reach
  the dispatcher, so all of them raise. The registration is kept alive by a reference the process
  cannot reach, so it cannot be unregistered.
* autograd: the engine's ``run_backward`` (the one method every backward pass and ``autograd.grad``,
  ``torch.func`` and ``autograd.functional`` end in, whatever engine object calls it) raises, and
  forward-mode dual numbers are ops that raise.
* NumPy's and SciPy's convolution helpers are replaced, under every name a loaded module gives them.
* no program can be started (``execve`` is refused by a seccomp filter on every thread), so a
  subprocess cannot run a fresh interpreter; a fork inherits the bans.

A banned call therefore cannot produce a result, whatever route reaches it: the function fails the
same tests as one that calls ``F.conv2d`` by name. Nothing here decides a grade: the checks run in
the grader's own process, which compares the values that come back.
"""

from __future__ import annotations

import ctypes
import gc
import os
import platform
import re
import struct
import sys

import torch

# group -> a regex on op names (without namespace or overload); what each group is called and the advice a
# student gets come from course_utils.checks, the in-process guard of the students' own runs
PATTERNS: dict[str, str] = {
    "conv": r"_?(convolution\w*|conv\d?d\w*|conv_transpose\w*|conv_tbc\w*|conv_depthwise\w*|\w*_convolution\w*"
    r"|slow_conv\w*|thnn_conv\w*|conv\d?d_\w+|mkldnn_convolution\w*|_nnpack_spatial_convolution)",
    "pool": r"_?\w*pool\d?d\w*|_?\w*_pool\w*|max_unpool\w*",
    "pad": r"pad|_pad_enum|_pad_circular|constant_pad_nd|reflection_pad\w*|replication_pad\w*",
    "activations": r"_?(sigmoid\w*|log_sigmoid\w*|_?softmax\w*|_?log_softmax\w*|softmin|logsumexp\w*|special_expit"
    r"|_safe_softmax|special_softmax|special_log_softmax|special_logsumexp)",
    "losses": r"\w*cross_entropy\w*|nll_loss\w*|\w*_loss|\w*_loss_\w*|\w*_loss\d?d\w*",
    "norm": r"_?\w*batch_norm\w*|\w*instance_norm\w*|\w*layer_norm\w*|\w*group_norm\w*|_?\w*rms_norm\w*",
    "autograd": r"_make_dual|_unpack_dual|_make_dual_copy",
    # call-scoped (autograder.trusted.grader_kernel.CALL_SCOPED): torch.optim itself is not in that sandbox at all
    # (autograder/sandbox/stubs/optim stands in for it); these are its fused kernels, which torch's own ops reach
    "optim": r"_fused_(adam|adamw|sgd|adagrad)\w*",
}
KEYS = (
    "CPU",
    "MkldnnCPU",
    "QuantizedCPU",
    "SparseCPU",
    "SparseCsrCPU",
    "CompositeExplicitAutograd",
    "CompositeExplicitAutogradNonFunctional",
    "CompositeImplicitAutograd",
    "Autograd",
)
NUMPY_SCIPY = (
    "convolve",
    "correlate",
    "correlate2",
    "convolve2d",
    "correlate2d",
    "fftconvolve",
    "oaconvolve",
    "convolve1d",
    "correlate1d",
    "maximum_filter",
    "uniform_filter",
)

_installed: set[str] = set()


class ForbiddenOperationError(RuntimeError):
    """The student's code reached an operation that this assignment asks them to write by hand."""


def message(group: str, what: str) -> str:
    from course_utils.checks import ADVICE, GROUPS

    advice = ADVICE.get(group, ADVICE["default"])
    return (
        f"write this by hand: it called {GROUPS[group][0]} ({what}), which is off limits in this assignment. {advice}"
    )


def _refuser(text: str):
    def refuse(*args, **kwargs):
        raise ForbiddenOperationError(text)

    return refuse


def banned_ops(group: str) -> list[str]:
    """Every registered op overload (``ns::name.overload``) of `group`."""
    pattern = re.compile(PATTERNS[group])
    out = []
    for full in torch._C._dispatch_get_all_op_names():
        namespace, _, rest = full.partition("::")
        if namespace in ("prim", "prims", "_test", "profiler", "inductor"):
            continue
        if pattern.fullmatch(rest.split(".")[0]):
            out.append(full)
    return out


def _ban_torch(groups: list[str]) -> None:
    import warnings

    warnings.filterwarnings("ignore", message=".*[Oo]verrid")
    libraries = {}
    for group in groups:
        for full in banned_ops(group):
            namespace, _, name = full.partition("::")
            if namespace not in libraries:
                libraries[namespace] = torch._C._dispatch_library("IMPL", namespace, "", "cnn-course ban", 0)
            keys = {"CPU"} | {k for k in KEYS if torch._C._dispatch_has_kernel_for_dispatch_key(full, k)}
            for key in sorted(keys):
                try:
                    libraries[namespace].impl(name, key, _refuser(message(group, full)), False)
                except RuntimeError:
                    pass  # a key this op cannot take a kernel for
    for lib in libraries.values():  # keep the registrations forever, out of the program's reach
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(lib))
    libraries.clear()


def _ban_engine() -> None:
    engine_type = type(torch.autograd.Variable._execution_engine)
    for cls in engine_type.__mro__[:-1]:
        if "run_backward" in vars(cls):
            namespace = gc.get_referents(cls.__dict__)[0]
            namespace["run_backward"] = _refuser(message("autograd", "the autograd engine"))
            ctypes.pythonapi.PyType_Modified(ctypes.py_object(cls))


def _ban_numpy_scipy() -> None:
    import importlib

    for name in ("numpy", "scipy.signal", "scipy.ndimage"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    originals = {}
    for module_name, module in list(sys.modules.items()):
        if module is None or module_name.split(".")[0] not in ("numpy", "scipy"):
            continue
        for attr in NUMPY_SCIPY:
            obj = getattr(module, attr, None)
            if callable(obj):
                originals[id(obj)] = f"{module_name}.{attr}"
    for module_name, module in list(sys.modules.items()):
        if module is None or module_name.split(".")[0] not in ("numpy", "scipy"):
            continue
        for attr, obj in list(vars(module).items()):
            if id(obj) in originals:
                try:
                    setattr(
                        module,
                        attr,
                        _refuser(
                            f"write this by hand: {originals[id(obj)]} does the convolution for you, and NumPy/SciPy "
                            f"convolution helpers are off limits in this assignment."
                        ),
                    )
                except (AttributeError, TypeError):
                    pass


# seccomp: refuse execve/execveat on every thread (x86_64 and aarch64)
_ARCH = {"x86_64": (0xC000003E, (59, 322), 317), "aarch64": (0xC00000B7, (221, 281), 277)}


def _no_exec() -> bool:
    machine = platform.machine()
    if machine not in _ARCH:
        return False
    arch, (execve, execveat), seccomp_nr = _ARCH[machine]
    errno_eperm = 0x00050000 | 1
    allow = 0x7FFF0000

    def ins(code, jt, jf, k):
        return struct.pack("HBBI", code, jt, jf, k)

    program = [
        ins(0x20, 0, 0, 4),  # A = arch
        ins(0x15, 1, 0, arch),  # arch ok -> skip next
        ins(0x06, 0, 0, errno_eperm),  # other arch: refuse
        ins(0x20, 0, 0, 0),  # A = syscall number
        ins(0x35, 0, 1, 0x40000000),  # x32 ABI -> refuse
        ins(0x06, 0, 0, errno_eperm),
        ins(0x15, 0, 1, execve),
        ins(0x06, 0, 0, errno_eperm),
        ins(0x15, 0, 1, execveat),
        ins(0x06, 0, 0, errno_eperm),
        ins(0x06, 0, 0, allow),
    ]
    filters = ctypes.create_string_buffer(b"".join(program))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(len(program), ctypes.addressof(filters))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    # seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog): every thread of the process
    return libc.syscall(seccomp_nr, 1, 1, ctypes.byref(prog)) == 0


def install(groups: list[str] | tuple[str, ...]) -> dict:
    """Switch off `groups` for the rest of this process, and starting programs; what was done."""
    groups = [g for g in groups if g in PATTERNS and g not in _installed]
    _ban_torch(groups)
    if "autograd" in groups:
        _ban_engine()
    if "conv" in groups:
        _ban_numpy_scipy()
    _installed.update(groups)
    no_exec = "exec" in _installed or _no_exec()
    if no_exec:
        _installed.add("exec")
    return {"groups": sorted(_installed - {"exec"}), "no_exec": no_exec, "pid": os.getpid()}
