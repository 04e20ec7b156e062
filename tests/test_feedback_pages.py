"""The feedback page's images (autograder.hooks.feedback.embed_images): the course's figures become data: URIs, so the
page alone (all that fetch_feedback carries) shows them; nothing outside the released folder is ever read into it.
(Feedback pages of graded classes, with their named index: tests/test_roundtrip.py.)"""

from __future__ import annotations

import base64
import re

from autograder.hooks.feedback import docstring_title, embed_images

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_the_courses_figures_are_embedded_and_nothing_else_is_read(tmp_path):
    released = tmp_path / "notebooks" / "01_convolution"
    (released / "figures").mkdir(parents=True)
    (released / "figures" / "shift.png").write_bytes(PNG)
    (tmp_path / "secret.png").write_bytes(b"the gradebook, say")
    (released / "figures" / "link.png").symlink_to(tmp_path / "secret.png")
    (released / "notes.txt").write_text("not an image")
    source = (
        "![a shift](figures/shift.png)\n"
        '![titled](figures/shift.png "Title")\n'
        '<img src="figures/shift.png" width=300>\n'
        "![up](../../secret.png) ![abs](/etc/passwd.png) ![link](figures/link.png) ![txt](notes.txt)\n"
        "![gone](figures/missing.png) <img src='../../secret.png'>\n"
        "![web](https://example.org/x.png) ![inline](data:image/png;base64,AAAA)\n"
    )
    out = embed_images(source, released)
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert out.count(uri) == 3 and '"Title")' in out
    assert "gradebook" not in out and base64.b64encode(b"the gradebook, say").decode() not in out
    for target in ("../../secret.png", "/etc/passwd.png", "figures/link.png", "notes.txt", "figures/missing.png"):
        assert f"*(image not included: {target})*" in out, target
    assert "<img src=''>" in out  # an HTML image that is not the course's loses its source
    assert "https://example.org/x.png" in out and "data:image/png;base64,AAAA" in out
    rendered = re.findall(r"(?:!\[[^\]]*\]\(|src=[\"'])([^)\"'\s]*)", out)
    assert all(t == "" or t.startswith(("data:", "https:")) for t in rendered), rendered


def test_a_test_is_named_by_its_docstrings_first_line():
    assert docstring_title('"""corr2d keeps the dtype.\n\nMore."""\nassert True') == "corr2d keeps the dtype."
    assert docstring_title("assert True") is None and docstring_title("def (") is None
