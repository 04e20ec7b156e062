"""The student text reads on its own: short runs of prose between examples, pictures that exist and are current."""

from __future__ import annotations

import re

import nbformat
import pytest

from conftest import ROOT, assignments
from course_utils import figures

#: The most words of prose a student reads before a picture or a runnable cell comes.
MAX_WORDS = 150
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]*)\)")


def prose_words(markdown: str) -> list[int]:
    """Word counts of the prose pieces of one markdown cell, split at its images.

    Display math ($$ ... $$) and table rows are not prose: they are read like a picture.
    """
    text = re.sub(r"\$\$.*?\$\$", " ", markdown, flags=re.S)
    text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("|"))
    return [len(piece.split()) for piece in IMAGE.split(text)[::2]]


def runs_of_prose(nb: nbformat.NotebookNode) -> list[tuple[int, int]]:
    """(words, index of the cell where the run starts) for every run of prose between code cells and images."""
    runs, words, start = [], 0, None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            runs.append((words, start))
            words, start = 0, None
            continue
        for k, count in enumerate(prose_words(cell.source)):
            if k > 0:  # an image came before this piece
                runs.append((words, start))
                words, start = 0, None
            if count and start is None:
                start = index
            words += count
    runs.append((words, start))
    return [run for run in runs if run[0]]


def test_prose_words_splits_at_images_and_skips_math_and_tables():
    text = "one two\n\n$$a + b = c$$\n\n| x | y |\n|---|---|\n\nthree ![alt](figures/a.png) four five"
    assert prose_words(text) == [3, 2]


@pytest.mark.parametrize("name", assignments())
def test_a_picture_or_an_example_comes_within_every_150_words(name):
    nb = nbformat.read(ROOT / "notebooks" / name / f"{name}.ipynb", as_version=4)
    long_runs = [f"cell {start}: {words} words" for words, start in runs_of_prose(nb) if words > MAX_WORDS]
    assert not long_runs, f"{name}: prose longer than {MAX_WORDS} words before a picture or a code cell: {long_runs}"


@pytest.mark.parametrize("name", assignments())
def test_every_image_in_the_markdown_exists_in_source_and_release_and_every_figure_is_shown(name):
    shown = set()
    for folder in ("source", "notebooks"):
        nb = nbformat.read(ROOT / folder / name / f"{name}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                for path in IMAGE.findall(cell.source):
                    assert (ROOT / folder / name / path).is_file(), f"{folder}/{name}: {path} is missing"
                    shown.add(path)
    made = {f"figures/{file}" for file in figures.static_figures().get(name, {})}
    assert made <= shown, f"{name}: figures made but never shown: {sorted(made - shown)}"
    assert shown <= made, f"{name}: images shown that `make figures` does not make: {sorted(shown - made)}"
    for file in made:
        released = ROOT / "notebooks" / name / file
        assert released.read_bytes() == (ROOT / "source" / name / file).read_bytes(), (
            f"notebooks/{name}/{file} differs from source/: run make release"
        )


@pytest.mark.slow
def test_static_figures_are_current(tmp_path):
    """Re-render every static figure and compare with the committed PNG (a few pixels may differ)."""
    assert figures.main(["--root", str(ROOT / "source"), "--check", str(tmp_path)]) == 0, (
        "static figures are stale: run make figures, then make release"
    )


def test_compare_images_tolerates_a_few_pixels_but_not_a_change():
    from course_utils.plotting import figure_to_png, new_figure

    def png(text: str) -> bytes:
        fig = new_figure(2, 1)
        fig.text(0.1, 0.5, text)
        return figure_to_png(fig)

    assert figures.compare_images(png("same"), png("same")) is None
    assert figures.compare_images(png("one text"), png("another, longer text")) is not None


#: Fashion-MNIST's labels 0-9 as its authors list them (github.com/zalandoresearch/fashion-mnist), by kind.
FASHION_MNIST_KINDS = {
    "clothes": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Shirt"],
    "shoes": ["Sandal", "Sneaker", "Ankle boot"],
    "bags": ["Bag"],
}


def test_fashion_mnist_is_not_only_clothing_and_the_text_says_so():
    """Its ten classes include three kinds of shoe and a bag: no notebook calls its items garments or clothing
    alone, and 06 counts the kinds as the labels do."""
    from course_utils import data

    assert sorted(data.CLASS_NAMES) == sorted(sum(FASHION_MNIST_KINDS.values(), []))
    counts = {kind: len(names) for kind, names in FASHION_MNIST_KINDS.items()}
    assert counts == {"clothes": 6, "shoes": 3, "bags": 1}
    texts = {}
    for name in assignments():
        nb = nbformat.read(ROOT / "source" / name / f"{name}.ipynb", as_version=4)
        texts[name] = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert not re.search(r"garment|clothing item|items of clothing", texts[name], re.I), name
    assert "ten classes: six kinds of clothing, three of shoes, and bags" in texts["06_lenet"]
    assert "Fashion-MNIST, topic 06's data set of clothes, shoes and bags" in texts["01_convolution"]
