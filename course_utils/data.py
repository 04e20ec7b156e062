"""Images for the course: source post 001's synthetic images, a real photograph, and Fashion-MNIST.

Fashion-MNIST is looked for in ``$COURSE_DATA``, then Debian's ``dataset-fashion-mnist``
(``/usr/share/datasets/fashion-mnist``), then the course's cache
(``$XDG_CACHE_HOME/cnn-course/fashion-mnist``); only then is it downloaded, once, and every file
is checked against the SHA-256 of its decompressed content (Debian recompresses the ``.gz``
files, so only the payload has one checksum everywhere). Files found locally are trusted after a
header and size check; checksums are verified when a file is downloaded. Nothing here runs on
import.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import struct
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

__all__ = [
    "CLASS_NAMES",
    "ChecksumError",
    "DEBIAN_DIR",
    "DatasetUnavailableError",
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_SHA256",
    "FASHION_MNIST_URL",
    "SPLITS",
    "SYNTHETIC_IMAGES",
    "VALIDATION_SIZE",
    "cache_dir",
    "checkerboard",
    "download_fashion_mnist",
    "edge_image",
    "fashion_mnist_item",
    "find_fashion_mnist",
    "load_fashion_mnist",
    "photo",
    "read_idx",
    "search_paths",
    "x_image",
]

# --------------------------------------------------------------------------------------------
# source post 001's synthetic images


def edge_image() -> torch.Tensor:
    """Source post 001's image 1: (7, 6) float32, columns 0-2 are 255 and columns 3-5 are 0 (a vertical edge)."""
    img = torch.zeros(7, 6)
    img[:, :3] = 255.0
    return img


def checkerboard() -> torch.Tensor:
    """Source post 001's image 2: (8, 8) float32, 4x4 blocks: 0 top-left, 255 top-right and bottom-left,
    0 bottom-right."""
    img = torch.zeros(8, 8)
    img[:4, 4:] = 255.0
    img[4:, :4] = 255.0
    return img


def x_image() -> torch.Tensor:
    """Source post 001's image 3: (9, 9) float32, an X of 255 on a background of 1 (the post starts from ones)."""
    img = torch.ones(9, 9)
    for i in range(7):
        img[i + 1, i + 1] = 255.0
        img[i + 1, 7 - i] = 255.0
    return img


SYNTHETIC_IMAGES: dict[str, Callable[[], torch.Tensor]] = {
    "edge 7x6": edge_image,
    "checkerboard 8x8": checkerboard,
    "X 9x9": x_image,
}

# --------------------------------------------------------------------------------------------
# a real photograph (ships with matplotlib)


def photo(gray: bool = True, size: int | None = 128) -> torch.Tensor:
    """Grace Hopper's portrait from matplotlib's sample data, float32 in [0, 255].

    gray=True -> (H, W) luma (0.299 R + 0.587 G + 0.114 B); gray=False -> (3, H, W).
    `size` is the longer side after downscaling by area averaging (None: full 600x512).
    """
    return _photo(gray, size).clone()


@functools.lru_cache(maxsize=8)
def _photo(gray: bool, size: int | None) -> torch.Tensor:
    """Decoded and resized once per (gray, size); `photo` hands out copies."""
    import matplotlib.cbook
    import matplotlib.image

    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    rgb = torch.from_numpy(matplotlib.image.imread(path).copy()).permute(2, 0, 1).float()  # (3, H, W)
    if size is not None:
        H, W = rgb.shape[1:]
        scale = size / max(H, W)
        if scale < 1:
            new = (max(1, round(H * scale)), max(1, round(W * scale)))
            rgb = torch.nn.functional.interpolate(rgb[None], size=new, mode="area")[0]
    if gray:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
        return (rgb * weights).sum(0)
    return rgb


# --------------------------------------------------------------------------------------------
# Fashion-MNIST


CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
#: SHA-256 of each file's decompressed content.
FASHION_MNIST_SHA256 = {
    "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
}
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
_EXPECTED_COUNT = {"train": 60000, "test": 10000}
#: How many of the training images, the last ones, are held out as the validation split.
VALIDATION_SIZE = 5000
#: The splits ``load_fashion_mnist`` knows: the published two, and the training set cut in two so that a recipe
#: is chosen on images it was not trained on while the test set is looked at once, at the end.
SPLITS = {
    "train": "all 60,000 training images",
    "test": "the 10,000 test images",
    "train-without-validation": "the first 55,000 training images",
    "validation": "the last 5,000 training images",
}
_CACHE: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = {}


class DatasetUnavailableError(RuntimeError):
    """Fashion-MNIST could not be found locally nor downloaded.

    In a notebook, IPython shows just the message (what was tried, how to fix it), not a stack trace.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class ChecksumError(DatasetUnavailableError):
    """A downloaded file's content does not match its published checksum."""


def cache_dir() -> Path:
    """The course's own download cache: $XDG_CACHE_HOME/cnn-course/fashion-mnist."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cnn-course" / "fashion-mnist"


def search_paths() -> list[Path]:
    """Where Fashion-MNIST is looked for, in order."""
    paths = []
    if os.environ.get("COURSE_DATA"):
        root = Path(os.environ["COURSE_DATA"])
        paths += [root, root / "fashion-mnist"]
    return paths + [DEBIAN_DIR, cache_dir()]


def _all_files() -> list[str]:
    return [name for pair in FASHION_MNIST_FILES.values() for name in pair]


def find_fashion_mnist() -> Path | None:
    """The first search path that holds all four files, or None."""
    for path in search_paths():
        if all((path / name).is_file() for name in _all_files()):
            return path
    return None


def _payload(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def read_idx(path: Path | str) -> torch.Tensor:
    """Parse an IDX file (gzip-compressed or raw) into a uint8 tensor of its stored shape."""
    path = Path(path)
    try:
        data = _payload(path)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path}: cannot read it as an IDX file ({exc})") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path}: not a uint8 IDX file (magic bytes {data[:4].hex()}, expected 0000 08 xx)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    count = 1
    for dim in shape:
        count *= dim
    if len(data) - header != count:
        raise ValueError(f"{path}: IDX header promises shape {shape} ({count} bytes), file holds {len(data) - header}")
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8).reshape(shape)


def _how_to_fix() -> str:
    searched = "\n".join(f"  - {p}" for p in search_paths())
    return (
        "Looked in:\n" + searched + "\nTo fix it, do one of:\n"
        "  - on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
        "  - set COURSE_DATA to a folder holding the four Fashion-MNIST .gz files\n"
        "  - connect to the internet and run again (the files are downloaded once, with checksums)"
    )


def download_fashion_mnist(
    dest: Path | None = None,
    base_url: str | None = None,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Path:
    """Download the four files into `dest` (default: the cache), verifying each checksum.

    A file is written under its final name only after its decompressed content matches;
    files already there with a good checksum are kept. `checksums` defaults to FASHION_MNIST_SHA256.
    Raises ChecksumError for a mismatch and DatasetUnavailableError when the server can't be reached.
    """
    dest = Path(dest) if dest is not None else cache_dir()
    checksums = FASHION_MNIST_SHA256 if checksums is None else checksums
    base_url = base_url or os.environ.get("COURSE_FASHION_MNIST_URL") or FASHION_MNIST_URL
    if not base_url.endswith("/"):
        base_url += "/"
    dest.mkdir(parents=True, exist_ok=True)
    for name in _all_files():
        target = dest / name
        if target.is_file() and _sha256(_payload(target)) == checksums[name]:
            continue
        try:
            with urllib.request.urlopen(base_url + name, timeout=timeout) as response:
                data = response.read()
        except (urllib.error.URLError, OSError) as exc:
            raise DatasetUnavailableError(
                f"Fashion-MNIST is not on this machine and could not be downloaded from {base_url} "
                f"(offline or unreachable: {exc}).\n" + _how_to_fix()
            ) from None
        digest = _sha256(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
        if digest != checksums[name]:
            raise ChecksumError(
                f"{name} from {base_url} is corrupt: its content has SHA-256 {digest}, "
                f"expected {checksums[name]}. Nothing was saved; try again later."
            )
        with tempfile.NamedTemporaryFile(dir=dest, delete=False, prefix=f".{name}.") as tmp:
            tmp.write(data)
        os.replace(tmp.name, target)
    return dest


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_fashion_mnist(
    split: str = "train", root: Path | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST `split`, one of ``SPLITS``: images uint8 (N, 28, 28), labels int64 (N,).

    "validation" is the last ``VALIDATION_SIZE`` training images and "train-without-validation" the others
    (views of the training set, in the published order). Parsed tensors are cached in memory, so later calls
    are instant.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: use one of {', '.join(map(repr, SPLITS))}")
    if split in ("validation", "train-without-validation"):
        images, labels = load_fashion_mnist("train", root, download)
        keep = slice(-VALIDATION_SIZE, None) if split == "validation" else slice(None, -VALIDATION_SIZE)
        return images[keep], labels[keep]
    if root is None:
        root = find_fashion_mnist()
    if root is None:
        if not download:
            raise DatasetUnavailableError("Fashion-MNIST was not found on this machine.\n" + _how_to_fix())
        root = download_fashion_mnist()
    root = Path(root)
    key = (str(root.resolve()), split)
    if key not in _CACHE:
        image_file, label_file = FASHION_MNIST_FILES[split]
        images, labels = read_idx(root / image_file), read_idx(root / label_file)
        if images.dim() != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
            raise DatasetUnavailableError(
                f"{root}: {image_file} has shape {tuple(images.shape)} and {label_file} "
                f"{tuple(labels.shape)}; expected (N, 28, 28) and (N,)"
            )
        _CACHE[key] = (images, labels.long())
    return _CACHE[key]


def fashion_mnist_item(index: int = 0, split: str = "test") -> tuple[torch.Tensor, int]:
    """One Fashion-MNIST image as float32 (28, 28) in [0, 255], and its label."""
    images, labels = load_fashion_mnist(split)
    return images[index].float(), int(labels[index])
