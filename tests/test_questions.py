"""04's and 05's graded questions: the solution's answers pass, and each wrong answer a hint names gets that hint.

Each question's hidden test calls ``cu.checks.check_answer(name, value, expected, why=..., hints={wrong: text})``.
This runs every such cell of the source notebook with the answer cell's solution (it must pass), then with each
hinted wrong answer in turn (it must fail with that hint's text and the ``why``), in-process like
``autograder.cli.mutation``.
"""

from __future__ import annotations

import ast
import math

import pytest

from autograder.cli.mutation import _cells
from course_utils.checks import CheckFailure

TOPICS = ["02_padding_stride", "03_pooling", "04_losses", "05_backprop", "06_lenet"]


def _namespace(assignment: str) -> tuple[dict, list[tuple[str, str]]]:
    """The setup cell and the answer cell run (solutions in place); the question test cells (grade_id, source)."""
    setup, solutions, tests = _cells(assignment)
    ns: dict = {"__name__": "__main__"}
    exec(setup, ns)
    exec(dict(solutions)["answers"], ns)
    questions = [(grade_id, source) for grade_id, _, source in tests if grade_id.startswith("test_q_")]
    return ns, questions


def _check_answer_call(source: str) -> ast.Call:
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "check_answer"
    ]
    assert len(calls) == 1, "a question's test cell makes one check_answer call"
    return calls[0]


@pytest.mark.parametrize("assignment", TOPICS)
def test_each_topic_ends_with_3_to_5_questions_that_the_solution_answers(assignment):
    ns, questions = _namespace(assignment)
    assert 3 <= len(questions) <= 5, [g for g, _ in questions]
    for _, source in questions:
        exec(source, dict(ns))  # raises if the solution's answer is wrong


@pytest.mark.parametrize("assignment", TOPICS)
def test_each_hinted_wrong_answer_fails_with_its_hint_and_the_reasoning(assignment):
    ns, questions = _namespace(assignment)
    for grade_id, source in questions:
        call = _check_answer_call(source)
        name = ast.literal_eval(call.args[0])
        keywords = {k.arg: k.value for k in call.keywords}
        why = eval(compile(ast.Expression(keywords["why"]), grade_id, "eval"), dict(ns))
        hints = eval(compile(ast.Expression(keywords["hints"]), grade_id, "eval"), dict(ns))
        assert hints, f"{grade_id}: no hints for common mistakes"
        for wrong, text in hints.items():
            trial = dict(ns)
            trial[name] = wrong
            with pytest.raises(CheckFailure) as failure:
                exec(source, trial)
            message = str(failure.value)
            assert text in message and why in message, f"{grade_id} with {name} = {wrong!r}: {message}"
        trial = dict(ns)
        trial[name] = ...
        with pytest.raises(CheckFailure, match="still `...`"):
            exec(source, trial)


@pytest.mark.parametrize("assignment", TOPICS)
def test_the_form_test_asks_for_every_answer_and_refuses_a_wrong_form(assignment):
    ns, _ = _namespace(assignment)
    form = next(source for grade_id, _, source in _cells(assignment)[2] if grade_id == "test_answers_form")
    exec(form, dict(ns))
    names = [n for n in ast.literal_eval(ast.unparse(_answers_dict(form)))]
    for name in names:
        trial = dict(ns)
        trial[name] = ...
        with pytest.raises(NotImplementedError, match=name):
            exec(form, trial)
        trial[name] = "a" if not isinstance(ns[name], str) else math.pi
        with pytest.raises(AssertionError, match=name):
            exec(form, trial)


def _answers_dict(form: str) -> ast.Dict:
    """The form test's `answers = {"name": name, ...}`, its values replaced by the names as strings."""
    for node in ast.walk(ast.parse(form)):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "answers":
            return ast.Dict(keys=node.value.keys, values=node.value.keys)
    raise AssertionError("the form test has no `answers = {...}`")
