"""Unit tests of autograder/hooks/submissions.py's messages: what plain `nbgrader autograde` says and silences.
(The hooks at work in a graded class: tests/test_roundtrip.py, tests/test_formgrader_routes.py.)"""

from __future__ import annotations

import warnings

from sqlalchemy.exc import SAWarning

from autograder.hooks import submissions as nbgrader_hooks

NOT_IN_SESSION = (
    "Object of type <SubmittedAssignment> not in session, add operation along 'Assignment.submissions' will not "
    "proceed (This warning originated from the Session 'autoflush' process, which was invoked automatically in "
    "response to a user-initiated operation.)"
)


def test_only_nbgraders_harmless_sqlalchemy_warning_is_silenced():
    others = [
        (NOT_IN_SESSION.replace("SubmittedAssignment", "Student"), SAWarning, "nbgrader.api"),
        ("Column 'x' has no default", SAWarning, "nbgrader.api"),
        (NOT_IN_SESSION, UserWarning, "nbgrader.api"),
        (NOT_IN_SESSION, SAWarning, "somewhere.else"),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nbgrader_hooks.quiet_sqlalchemy()
        for message, category, module in [(NOT_IN_SESSION, SAWarning, "nbgrader.api"), *others]:
            warnings.warn_explicit(message, category, "api.py", 2229, module=module)
    assert [(str(w.message), w.category) for w in caught] == [(m, c) for m, c, _ in others]


def test_grading_says_once_and_loudly_when_it_is_not_sandboxed(monkeypatch, capsys):
    monkeypatch.setattr(nbgrader_hooks, "_announced", [])
    monkeypatch.setenv("CNN_COURSE_NO_SANDBOX", "1")
    nbgrader_hooks.announce_grading()
    nbgrader_hooks.announce_grading()
    out, err = capsys.readouterr()
    assert out == "" and err.count("NOT sandboxed (CNN_COURSE_NO_SANDBOX=1)") == 1 and "!" * 100 in err, err
    assert nbgrader_hooks.sandbox_label(False) == "NOT sandboxed: CNN_COURSE_NO_SANDBOX=1"
    monkeypatch.setattr(nbgrader_hooks, "_announced", [])
    monkeypatch.delenv("CNN_COURSE_NO_SANDBOX")
    nbgrader_hooks.announce_grading()
    assert "every submission runs split and sandboxed" in capsys.readouterr().err


def test_the_course_config_sets_the_safe_exchange_privacy_and_feedback_on_every_route():
    """nbgrader_config.py as the Formgrader loads it (inside the Jupyter server: not the `nbgrader` command). An
    error there would be logged and the whole file ignored on that route, so it must load, with these set."""
    import os
    from pathlib import Path

    from traitlets.config.loader import PyFileConfigLoader

    from conftest import ROOT

    c = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert c.ExchangeFactory.collect == "autograder.hooks.submissions.SafeCollect"
    assert c.ExchangeFactory.release_assignment == "autograder.hooks.submissions.SafeRelease"
    assert c.Autograde.pre_convert_hook == "autograder.hooks.submissions.reject_links"
    assert c.Autograde.post_convert_hook == "autograder.hooks.submissions.report_score"
    assert c.Autograde.autograde_preprocessors[0] == "autograder.hooks.execute.SplitExecute"
    assert c.GenerateAssignment.preprocessors[0] == "autograder.hooks.privacy.RefuseExposed"
    assert len(c.GenerateAssignment.preprocessors) > 5  # nbgrader's own steps follow
    assert c.Autograde.sanitize_preprocessors[0] == "autograder.hooks.privacy.RefuseExposed"
    assert c.GenerateFeedback.preprocessors[0] == "autograder.hooks.privacy.RefuseExposed"
    assert "autograder.hooks.feedback.EmbedImages" in c.GenerateFeedback.preprocessors
    assert c.ExportApp.plugin_class == "autograder.hooks.privacy.PrivateCsvExport"
    exporter = c.GenerateFeedback.HTMLExporter
    assert exporter.template_name == "cnn_feedback"
    assert any((Path(d) / "cnn_feedback" / "index.html.j2").is_file() for d in exporter.extra_template_basedirs)
    assert all(os.path.isdir(d) for d in [*exporter.extra_template_basedirs, *exporter.extra_template_paths])
    assert "template_name" not in c.HTMLExporter  # the Formgrader's own views keep their template
