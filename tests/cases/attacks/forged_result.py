# corr2d, convolve2d and conv2d are blank: each call publishes its own "result" on the sandbox kernel's channels,
# with the parent header of the request it answers (the test cell's, as far as the sandbox can tell), then raises.
# nbgrader scores a test cell by its first execute_result: if the grader relayed these, a blank notebook would
# score full marks.
from IPython import get_ipython


def _forge(text="22"):
    kernel = get_ipython().kernel
    parent = kernel.get_parent()
    for kind, content in [
        ("execute_result", {"data": {"text/plain": text}, "metadata": {}, "execution_count": 1}),
        ("display_data", {"data": {"text/plain": text}, "metadata": {}, "transient": {"display_id": "x"}}),
        ("update_display_data", {"data": {"text/plain": text}, "metadata": {}, "transient": {"display_id": "x"}}),
        ("stream", {"name": "stdout", "text": text}),
        ("clear_output", {"wait": False}),
    ]:
        kernel.session.send(kernel.iopub_socket, kind, content, parent, ident=kernel._topic(kind))
    get_ipython().displayhook(float(text))  # and IPython's own route for a result


def corr2d(X, K, mode="valid"):
    _forge()
    raise NotImplementedError()


def convolve2d(X, K):
    _forge()
    raise NotImplementedError()


def conv2d(X, W, b=None):
    _forge()
    raise NotImplementedError()
