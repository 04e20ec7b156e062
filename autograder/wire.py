"""Plain data between the grader and a student's sandbox: nothing that can carry code or behaviour.

When a hidden test calls a student's function, the arguments go to the sandbox and the result comes
back in this format: JSON with tensors as dtype + shape + raw bytes (base64), numbers, strings,
lists, tuples and dicts, and a few torch objects described by what they are, never by reference:

* a module of a whitelisted type (``nn.Sequential`` of ``Conv2d``, ``Linear``, pooling, activations,
  ``Dropout``, ``Flatten`` ..., and the loss modules) as its constructor arguments, parameters,
  buffers, gradients and train/eval flags;
* an optimizer of a whitelisted type (``SGD``, ``Adam`` ...) as its ``state_dict`` and the
  parameters it updates;
* ``course_utils.training.TensorLoader`` as its tensors, batch size and generator state.

`decode` rebuilds plain ``torch.Tensor`` objects and torch's own classes from that description,
calling nothing the student defined: no subclass, hook, patched method or pickle can cross. Both
sides use this module; the grader trusts only what it decodes itself.
"""

from __future__ import annotations

import base64
import json
import math
from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from course_utils.checks import ModeProbe

#: The largest message the grader accepts from a sandbox (bytes of JSON).
MAX_MESSAGE = 64 * 2**20
#: The most elements a decoded tensor (or a rebuilt module, in total) may have.
MAX_ELEMENTS = 32 * 2**20
MAX_DEPTH = 32

DTYPES = {
    str(d).removeprefix("torch."): d
    for d in (
        torch.float64,
        torch.float32,
        torch.float16,
        torch.bfloat16,
        torch.complex64,
        torch.complex128,
        torch.int64,
        torch.int32,
        torch.int16,
        torch.int8,
        torch.uint8,
        torch.bool,
    )
}

# module type -> the attributes that are its constructor arguments
MODULES: dict[str, tuple[type, tuple[str, ...]]] = {
    "Sequential": (nn.Sequential, ()),
    "Conv2d": (
        nn.Conv2d,
        ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "padding_mode"),
    ),
    "Linear": (nn.Linear, ("in_features", "out_features")),
    "AvgPool2d": (
        nn.AvgPool2d,
        ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    ),
    "MaxPool2d": (nn.MaxPool2d, ("kernel_size", "stride", "padding", "dilation", "ceil_mode")),
    "AdaptiveAvgPool2d": (nn.AdaptiveAvgPool2d, ("output_size",)),
    "BatchNorm2d": (nn.BatchNorm2d, ("num_features", "eps", "momentum", "affine", "track_running_stats")),
    "BatchNorm1d": (nn.BatchNorm1d, ("num_features", "eps", "momentum", "affine", "track_running_stats")),
    "Flatten": (nn.Flatten, ("start_dim", "end_dim")),
    "Dropout": (nn.Dropout, ("p",)),
    "Identity": (nn.Identity, ()),
    "ReLU": (nn.ReLU, ()),
    "Sigmoid": (nn.Sigmoid, ()),
    "Tanh": (nn.Tanh, ()),
    "LeakyReLU": (nn.LeakyReLU, ("negative_slope",)),
    "Softmax": (nn.Softmax, ("dim",)),
    "LogSoftmax": (nn.LogSoftmax, ("dim",)),
    "CrossEntropyLoss": (nn.CrossEntropyLoss, ("ignore_index", "reduction", "label_smoothing")),
    "NLLLoss": (nn.NLLLoss, ("ignore_index", "reduction")),
    "BCELoss": (nn.BCELoss, ("reduction",)),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss, ("reduction",)),
    "MSELoss": (nn.MSELoss, ("reduction",)),
}
MODULES["ModeProbe"] = (ModeProbe, ())  # 06's tests: which modes the student's loop set (counts in buffers)
OPTIMIZERS: dict[str, type] = {
    name: getattr(torch.optim, name) for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad")
}


class WireError(ValueError):
    """A value that cannot be sent, or a message that is not valid."""


# ---------------------------------------------------------------------------------------------
# encoding


class Encoder:
    """Encodes one call's values; modules and optimizers are listed once and referred to by index."""

    def __init__(self) -> None:
        self.modules: list[nn.Module] = []
        self.optimizers: list[torch.optim.Optimizer] = []

    def encode(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        if value is None or isinstance(value, (bool, str)):
            return {"t": "plain", "v": value}
        if isinstance(value, int):
            return {"t": "int", "v": str(int(value))}
        if isinstance(value, float):
            return {"t": "float", "v": float(value).hex()}
        if isinstance(value, torch.Tensor):
            return encode_tensor(value)
        if isinstance(value, torch.Size):
            return {"t": "tuple", "v": [self.encode(int(v), depth + 1) for v in value]}
        if isinstance(value, (list, tuple)):
            return {
                "t": type(value).__name__ if type(value) in (list, tuple) else "tuple",
                "v": [self.encode(v, depth + 1) for v in value],
            }
        if isinstance(value, dict):
            return {
                "t": "dict",
                "v": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()],
            }
        if isinstance(value, torch.dtype):
            return {"t": "dtype", "v": str(value).removeprefix("torch.")}
        if isinstance(value, nn.Module):
            return {"t": "module", "v": self._index(self.modules, value)}
        if isinstance(value, torch.optim.Optimizer):
            return {"t": "optimizer", "v": self._index(self.optimizers, value)}
        if type(value).__name__ == "TensorLoader" and type(value).__module__ == "course_utils.training":
            return {
                "t": "loader",
                "X": encode_tensor(value.X),
                "y": encode_tensor(value.y),
                "batch_size": int(value.batch_size),
                "shuffle": bool(value.shuffle),
                "generator": encode_tensor(value.generator.get_state()),
            }
        raise WireError(f"cannot send a {type(value).__name__} to or from the sandbox")

    @staticmethod
    def _index(table: list, value: Any) -> int:
        for i, known in enumerate(table):
            if known is value:
                return i
        table.append(value)
        return len(table) - 1

    def tables(self) -> dict:
        """The modules and optimizers met so far (modules first: optimizers refer to their parameters)."""
        optimizers = [self._optimizer(opt) for opt in self.optimizers]  # may add modules? no: params only
        return {"modules": [module_spec(m) for m in self.modules], "optimizers": optimizers}

    def _optimizer(self, opt: torch.optim.Optimizer) -> dict:
        name = type(opt).__name__
        if name not in OPTIMIZERS or type(opt) is not OPTIMIZERS[name]:
            raise WireError(f"cannot send a {name} optimizer (known: {', '.join(OPTIMIZERS)})")
        owners = {}
        for m_index, module in enumerate(self.modules):
            for p_name, p in module.named_parameters():
                owners.setdefault(id(p), [m_index, p_name])
        params = []
        for group in opt.param_groups:
            for p in group["params"]:
                if id(p) not in owners:
                    raise WireError("an optimizer's parameters must belong to a module passed in the same call")
                params.append(owners[id(p)])
        return {"type": name, "params": params, "state": self.encode(opt.state_dict())}


def encode_tensor(t: torch.Tensor) -> dict:
    dtype = str(t.dtype).removeprefix("torch.")
    if dtype not in DTYPES:
        raise WireError(f"cannot send a tensor of dtype {t.dtype}")
    plain = t.detach().to("cpu").contiguous()
    if type(plain) is not torch.Tensor:
        plain = torch.Tensor._make_subclass(torch.Tensor, plain)  # a subclass is sent as its data only
    raw = plain.reshape(-1).view(torch.uint8).numpy().tobytes() if plain.numel() else b""
    return {
        "t": "tensor",
        "dtype": dtype,
        "shape": list(plain.shape),
        "data": base64.b64encode(raw).decode("ascii"),
        "requires_grad": bool(t.requires_grad),
    }


def module_spec(module: nn.Module) -> dict:
    """A whitelisted module as constructor arguments, state, gradients and train/eval flags."""
    name = type(module).__name__
    if name not in MODULES or type(module) is not MODULES[name][0]:
        raise WireError(f"cannot send a module of type {name} (known: {', '.join(sorted(MODULES))})")
    cls, fields = MODULES[name]
    enc = Encoder()
    spec = {
        "type": name,
        "args": {f: enc.encode(getattr(module, f)) for f in fields},
        "training": bool(module.training),
        "children": [[child_name, module_spec(child)] for child_name, child in module.named_children()],
    }
    if name in ("Conv2d", "Linear"):
        spec["args"]["bias"] = enc.encode(module.bias is not None)
    spec["params"] = {
        n: {
            "value": encode_tensor(p),
            "grad": None if p.grad is None else encode_tensor(p.grad),
            "requires_grad": bool(p.requires_grad),
        }
        for n, p in module.named_parameters(recurse=False)
    }
    spec["buffers"] = {n: (None if b is None else encode_tensor(b)) for n, b in module.named_buffers(recurse=False)}
    return spec


def encode_call(args: tuple, kwargs: dict) -> dict:
    enc = Encoder()
    message = {"args": [enc.encode(a) for a in args], "kwargs": {k: enc.encode(v) for k, v in kwargs.items()}}
    message.update(enc.tables())
    return message


def encode_result(result: Any, args: list, kwargs: dict) -> dict:
    """The student's return value plus the state of every argument after the call (they may change them)."""
    enc = Encoder()
    message = {"result": enc.encode(result)}
    after = Encoder()
    message["after"] = {
        "args": [_after(after, a) for a in args],
        "kwargs": {k: _after(after, v) for k, v in kwargs.items()},
    }
    message.update(enc.tables())
    message["after_tables"] = after.tables()
    return message


def _after(enc: Encoder, value: Any) -> Any:
    try:
        return enc.encode(value)
    except WireError:
        return None


# ---------------------------------------------------------------------------------------------
# decoding


class Decoder:
    """Rebuilds values from a message, creating only plain tensors and torch's own classes."""

    def __init__(self, tables: dict | None = None, loader_class: type | None = None):
        self.loader_class = loader_class
        self.elements = 0
        self.modules = [self.module(spec) for spec in _list((tables or {}).get("modules", []))]
        self.optimizers = [self.optimizer(spec) for spec in _list((tables or {}).get("optimizers", []))]

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH or not isinstance(node, dict):
            raise WireError("malformed value")
        kind = node.get("t")
        value = node.get("v")
        if kind == "plain":
            if value is None or isinstance(value, (bool, str)):
                return value
            raise WireError("malformed plain value")
        if kind == "int":
            if not isinstance(value, str) or len(value) > 4000:
                raise WireError("malformed int")
            return int(value)
        if kind == "float":
            if not isinstance(value, str) or len(value) > 40:
                raise WireError("malformed float")
            return float.fromhex(value)
        if kind == "tensor":
            return self.tensor(node)
        if kind in ("list", "tuple"):
            items = [self.decode(v, depth + 1) for v in _list(value)]
            return items if kind == "list" else tuple(items)
        if kind == "dict":
            out = {}
            for pair in _list(value):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise WireError("malformed dict")
                key = self.decode(pair[0], depth + 1)
                if not isinstance(key, (str, int, float, bool, type(None), tuple)):
                    raise WireError("malformed dict key")
                out[key] = self.decode(pair[1], depth + 1)
            return out
        if kind == "dtype":
            if value not in DTYPES:
                raise WireError("unknown dtype")
            return DTYPES[value]
        if kind == "module":
            return _pick(self.modules, value)
        if kind == "optimizer":
            return _pick(self.optimizers, value)
        if kind == "loader" and self.loader_class is not None:
            loader = self.loader_class(
                self.tensor(node["X"]), self.tensor(node["y"]), int(node["batch_size"]), shuffle=bool(node["shuffle"])
            )
            loader.generator.set_state(self.tensor(node["generator"]))
            return loader
        raise WireError(f"unknown value kind {kind!r}")

    def tensor(self, node: dict) -> torch.Tensor:
        if not isinstance(node, dict) or node.get("t") != "tensor" or node.get("dtype") not in DTYPES:
            raise WireError("malformed tensor")
        dtype = DTYPES[node["dtype"]]
        shape = node.get("shape")
        if not isinstance(shape, list) or len(shape) > 16 or not all(isinstance(s, int) and 0 <= s for s in shape):
            raise WireError("malformed tensor shape")
        numel = math.prod(shape)
        self.elements += numel
        if numel > MAX_ELEMENTS or self.elements > MAX_ELEMENTS:
            raise WireError("tensor too large")
        raw = base64.b64decode(node.get("data", ""), validate=True)
        if len(raw) != numel * torch.empty((), dtype=dtype).element_size():
            raise WireError("tensor data does not match its shape and dtype")
        t = torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape) if numel else torch.empty(shape, dtype=dtype)
        if node.get("requires_grad") is True and (dtype.is_floating_point or dtype.is_complex):
            t.requires_grad_(True)
        return t

    def module(self, spec: dict) -> nn.Module:
        if not isinstance(spec, dict) or spec.get("type") not in MODULES:
            raise WireError(f"cannot rebuild a module of type {spec.get('type') if isinstance(spec, dict) else spec!r}")
        cls, fields = MODULES[spec["type"]]
        raw_args = spec.get("args", {})
        if not isinstance(raw_args, dict) or set(raw_args) - set(fields) - {"bias"}:
            raise WireError("malformed module arguments")
        args = {k: self.decode(v) for k, v in raw_args.items()}
        for k, v in args.items():
            if not isinstance(v, (int, float, bool, str, tuple, type(None))):
                raise WireError(f"malformed module argument {k}")
        children = _list(spec.get("children", []))
        if cls is nn.Sequential:
            module = nn.Sequential(OrderedDict((str(n), self.module(c)) for n, c in children))
        else:
            if children:
                raise WireError("only Sequential has children")
            with torch.device("meta"):
                module = cls(**args)
            module = module.to_empty(device="cpu")
        params = spec.get("params", {})
        buffers = spec.get("buffers", {})
        own_params = dict(module.named_parameters(recurse=False))
        own_buffers = dict(module.named_buffers(recurse=False))
        if set(params) != set(own_params) or set(buffers) != set(own_buffers):
            raise WireError(f"{spec['type']}: parameters or buffers do not match its arguments")
        for name, entry in params.items():
            value = self.tensor(entry["value"])
            if value.shape != own_params[name].shape or value.dtype.is_floating_point is False:
                raise WireError(f"{spec['type']}.{name} has the wrong shape")
            p = nn.Parameter(value.detach(), requires_grad=bool(entry.get("requires_grad", True)))
            if entry.get("grad") is not None:
                grad = self.tensor(entry["grad"])
                if grad.shape != p.shape:
                    raise WireError(f"{spec['type']}.{name}.grad has the wrong shape")
                p.grad = grad.to(p.dtype)
            setattr(module, name, p)
        for name, entry in buffers.items():
            module._buffers[name] = None if entry is None else self.tensor(entry)
        module.training = bool(spec.get("training", True))  # children set their own flags
        return module

    def optimizer(self, spec: dict) -> torch.optim.Optimizer:
        if not isinstance(spec, dict) or spec.get("type") not in OPTIMIZERS:
            raise WireError("cannot rebuild that optimizer")
        params = []
        for ref in _list(spec.get("params", [])):
            if not isinstance(ref, list) or len(ref) != 2:
                raise WireError("malformed optimizer parameter")
            module = _pick(self.modules, ref[0])
            params.append(dict(module.named_parameters())[str(ref[1])])
        state = self.decode(spec["state"])
        groups = state.get("param_groups", []) if isinstance(state, dict) else []
        defaults = {k: v for k, v in (groups[0] if groups else {}).items() if k != "params"}
        opt = OPTIMIZERS[spec["type"]](params, **_optimizer_args(spec["type"], defaults))
        opt.load_state_dict(state)
        return opt


_OPTIMIZER_ARGS = {
    "SGD": ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"),
    "Adam": ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"),
    "AdamW": ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"),
    "RMSprop": ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"),
    "Adagrad": ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize"),
}


def _optimizer_args(name: str, defaults: dict) -> dict:
    return {
        k: v for k, v in defaults.items() if k in _OPTIMIZER_ARGS[name] and isinstance(v, (int, float, bool, tuple))
    }


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise WireError("malformed message")
    return value


def _pick(table: list, index: Any) -> Any:
    if not isinstance(index, int) or not 0 <= index < len(table):
        raise WireError("malformed reference")
    return table[index]


def dumps(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"))


def loads(text: str | bytes) -> dict:
    if len(text) > MAX_MESSAGE:
        raise WireError(f"message of {len(text):,} bytes is over the limit of {MAX_MESSAGE:,}")
    message = json.loads(text)
    if not isinstance(message, dict):
        raise WireError("malformed message")
    return message


# ---------------------------------------------------------------------------------------------
# copy-back: what a call did to the grader's own objects


def apply_after(originals: list, decoded_after: list) -> None:
    """Make the grader's arguments look as the student's function left its copies.

    Tensors take the new values when shape and dtype agree; modules take parameters, gradients,
    buffers and train/eval flags; optimizers their state; loaders their generator state.
    """
    for original, after in zip(originals, decoded_after):
        _apply(original, after)


def _apply(original: Any, after: Any) -> None:
    if after is None:
        return
    if isinstance(original, torch.Tensor) and isinstance(after, torch.Tensor):
        if original.shape == after.shape and original.dtype == after.dtype and not torch.equal(original, after):
            with torch.no_grad():
                original.copy_(after)
    elif isinstance(original, nn.Module) and isinstance(after, nn.Module):
        copy_module_state(original, after)
    elif isinstance(original, torch.optim.Optimizer) and isinstance(after, torch.optim.Optimizer):
        original.load_state_dict(after.state_dict())
    elif type(original).__name__ == "TensorLoader" and type(after).__name__ == "TensorLoader":
        original.generator.set_state(after.generator.get_state())
    elif isinstance(original, (list, tuple)) and isinstance(after, (list, tuple)) and len(original) == len(after):
        for o, a in zip(original, after):
            _apply(o, a)


def copy_module_state(original: nn.Module, after: nn.Module) -> None:
    mine = dict(original.named_parameters())
    for name, p in after.named_parameters():
        if name in mine and mine[name].shape == p.shape:
            with torch.no_grad():
                mine[name].copy_(p)
            mine[name].grad = None if p.grad is None else p.grad.detach().clone()
    my_buffers = dict(original.named_buffers())
    for name, b in after.named_buffers():
        if name in my_buffers and my_buffers[name].shape == b.shape:
            my_buffers[name].copy_(b)
    modes = dict(after.named_modules())
    for name, m in original.named_modules():
        if name in modes:
            m.training = modes[name].training
