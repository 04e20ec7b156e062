"""course_utils.data: source post 001's images, the photo, and the Fashion-MNIST loader (never the internet)."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import socket
import struct
import threading
from pathlib import Path

import pytest
import torch

from course_utils import data


def test_synthetic_images_follow_post_001():
    edge = data.edge_image()
    assert edge.shape == (7, 6) and edge.dtype == torch.float32
    assert torch.equal(edge[:, :3], torch.full((7, 3), 255.0)) and torch.equal(edge[:, 3:], torch.zeros(7, 3))
    board = data.checkerboard()
    assert board.shape == (8, 8)
    assert board[0, 0] == 0 and board[0, 7] == 255 and board[7, 0] == 255 and board[7, 7] == 0
    assert board.sum() == 255 * 32
    x = data.x_image()
    assert x.shape == (9, 9)
    assert x[0, 0] == 1 and x[1, 1] == 255 and x[1, 7] == 255 and x[7, 1] == 255 and x[4, 4] == 255
    assert int((x == 255).sum()) == 13  # two diagonals of 7 sharing the centre
    assert int((x == 1).sum()) == 81 - 13
    assert list(data.SYNTHETIC_IMAGES) == ["edge 7x6", "checkerboard 8x8", "X 9x9"]


def test_synthetic_images_are_new_tensors():
    first = data.edge_image()
    first += 1
    assert data.edge_image()[0, 0] == 255


def test_photo_gray_and_rgb():
    rgb = data.photo(gray=False, size=128)
    gray = data.photo(gray=True, size=128)
    assert rgb.shape == (3, 128, 109) and gray.shape == (128, 109)
    assert 0 <= float(gray.min()) and float(gray.max()) <= 255
    luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    assert torch.allclose(gray, luma, atol=1e-3)
    assert data.photo(gray=True, size=None).shape == (600, 512)
    copy = data.photo()
    copy.zero_()
    assert data.photo().max() > 0  # the cache hands out copies


def _idx(array: torch.Tensor) -> bytes:
    header = bytes([0, 0, 0x08, array.dim()]) + struct.pack(f">{array.dim()}I", *array.shape)
    return header + bytes(array.flatten().tolist())


def test_read_idx_gz_raw_and_bad_magic(tmp_path):
    images = torch.randint(0, 256, (3, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    (tmp_path / "a.gz").write_bytes(gzip.compress(_idx(images)))
    (tmp_path / "a.raw").write_bytes(_idx(images))
    assert torch.equal(data.read_idx(tmp_path / "a.gz"), images)
    assert torch.equal(data.read_idx(tmp_path / "a.raw"), images)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04" + bytes(10))
    with pytest.raises(ValueError, match="magic"):
        data.read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(_idx(images)[:-5])
    with pytest.raises(ValueError, match="bytes"):
        data.read_idx(tmp_path / "short")


@pytest.fixture
def small_dataset(tmp_path):
    """Four small gzip IDX files (5 train, 3 test images) and their content checksums."""
    gen = torch.Generator().manual_seed(7)
    tensors = {
        "train-images-idx3-ubyte.gz": torch.randint(0, 256, (5, 28, 28), generator=gen, dtype=torch.uint8),
        "train-labels-idx1-ubyte.gz": torch.randint(0, 10, (5,), generator=gen, dtype=torch.uint8),
        "t10k-images-idx3-ubyte.gz": torch.randint(0, 256, (3, 28, 28), generator=gen, dtype=torch.uint8),
        "t10k-labels-idx1-ubyte.gz": torch.randint(0, 10, (3,), generator=gen, dtype=torch.uint8),
    }
    served = tmp_path / "served"
    served.mkdir()
    checksums = {}
    for name, tensor in tensors.items():
        payload = _idx(tensor)
        (served / name).write_bytes(gzip.compress(payload))
        checksums[name] = hashlib.sha256(payload).hexdigest()
    return served, tensors, checksums


@pytest.fixture
def server(small_dataset):
    """A real HTTP server on 127.0.0.1 serving the small files; counts requests."""
    served, _, _ = small_dataset
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No real dataset reachable: empty cache, no COURSE_DATA, Debian's folder pointed elsewhere."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(data, "_CACHE", {})


def test_download_verifies_and_loads_then_reuses_the_files(isolated, small_dataset, server, tmp_path):
    _, tensors, checksums = small_dataset
    url, requests = server
    dest = data.download_fashion_mnist(tmp_path / "dl", base_url=url, checksums=checksums)
    assert len(requests) == 4
    images, labels = data.load_fashion_mnist("test", root=dest)
    assert torch.equal(images, tensors["t10k-images-idx3-ubyte.gz"])
    assert torch.equal(labels, tensors["t10k-labels-idx1-ubyte.gz"].long()) and labels.dtype == torch.int64
    data.download_fashion_mnist(tmp_path / "dl", base_url=url, checksums=checksums)
    assert len(requests) == 4, "files already there with good checksums must not be fetched again"


def test_load_downloads_into_the_cache_when_nothing_is_found(isolated, small_dataset, server, monkeypatch):
    _, tensors, checksums = small_dataset
    url, _ = server
    monkeypatch.setenv("COURSE_FASHION_MNIST_URL", url)
    monkeypatch.setattr(data, "FASHION_MNIST_SHA256", checksums)
    images, _ = data.load_fashion_mnist("train")
    assert torch.equal(images, tensors["train-images-idx3-ubyte.gz"])
    assert data.find_fashion_mnist() == data.cache_dir()


def test_corrupt_download_raises_checksum_error_and_saves_nothing(isolated, small_dataset, server, tmp_path):
    served, _, checksums = small_dataset
    url, _ = server
    (served / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x09"))
    with pytest.raises(data.ChecksumError, match="t10k-labels-idx1-ubyte.gz.*corrupt"):
        data.download_fashion_mnist(tmp_path / "dl", base_url=url, checksums=checksums)
    assert not (tmp_path / "dl" / "t10k-labels-idx1-ubyte.gz").exists()
    assert not list((tmp_path / "dl").glob(".t10k-labels*")), "no temporary file left behind"


def test_offline_gives_a_clear_error(isolated, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.download_fashion_mnist(tmp_path / "dl", base_url=f"http://127.0.0.1:{port}/", timeout=5)
    message = str(info.value)
    assert "offline or unreachable" in message and "dataset-fashion-mnist" in message and "COURSE_DATA" in message
    with pytest.raises(data.DatasetUnavailableError, match="not found"):
        data.load_fashion_mnist("test", download=False)


def test_course_data_comes_first(isolated, small_dataset, monkeypatch, tmp_path):
    served, tensors, _ = small_dataset
    monkeypatch.setenv("COURSE_DATA", str(served))
    assert data.search_paths()[0] == served
    assert data.find_fashion_mnist() == served
    assert torch.equal(data.load_fashion_mnist("train", download=False)[0], tensors["train-images-idx3-ubyte.gz"])
    with pytest.raises(ValueError, match="'valid'"):
        data.load_fashion_mnist("valid")


REAL = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(
    not (REAL / "train-images-idx3-ubyte.gz").exists(), reason="Debian's dataset-fashion-mnist is not installed"
)
def test_the_real_fashion_mnist():
    for name, digest in data.FASHION_MNIST_SHA256.items():
        assert hashlib.sha256(gzip.decompress((REAL / name).read_bytes())).hexdigest() == digest
    train_x, train_y = data.load_fashion_mnist("train", root=REAL)
    test_x, test_y = data.load_fashion_mnist("test", root=REAL)
    assert train_x.shape == (60000, 28, 28) and test_x.shape == (10000, 28, 28)
    assert torch.equal(torch.bincount(train_y), torch.full((10,), 6000))
    assert torch.equal(torch.bincount(test_y), torch.full((10,), 1000))
    image, label = data.fashion_mnist_item(0, "test")
    assert image.dtype == torch.float32 and image.shape == (28, 28) and label == int(test_y[0])


def test_missing_dataset_shows_a_message_not_a_stack_trace_in_a_notebook():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    shell.user_ns["cu_data"] = __import__("course_utils.data", fromlist=["data"])
    with capture_output() as captured:
        shell.run_cell("raise cu_data.DatasetUnavailableError('Fashion-MNIST was not found.\\nLooked in: /nowhere')")
    text = captured.stdout + captured.stderr
    assert "DatasetUnavailableError: Fashion-MNIST was not found." in text and "Looked in: /nowhere" in text
    assert "Traceback" not in text and "run_cell" not in text
