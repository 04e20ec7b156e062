# An extra cell: a thread that keeps publishing results, display updates and errors with whatever request the
# sandbox kernel is answering at that moment (a test cell's call, later on), on every channel it can reach.
import threading
import time

from IPython import get_ipython

_kernel = get_ipython().kernel


def _flood():
    for _ in range(4000):
        parent = _kernel.get_parent()
        for kind, content in [
            ("execute_result", {"data": {"text/plain": "1e9"}, "metadata": {}, "execution_count": 1}),
            ("error", {"ename": "x", "evalue": "y", "traceback": []}),
            ("update_display_data", {"data": {"text/plain": "22"}, "metadata": {}, "transient": {"display_id": "a"}}),
        ]:
            try:
                _kernel.session.send(_kernel.iopub_socket, kind, content, parent, ident=_kernel._topic(kind))
                _kernel.session.send(_kernel.shell_stream, "execute_reply", {"status": "ok"}, parent)
            except Exception:
                pass
        time.sleep(0.005)


threading.Thread(target=_flood, daemon=True).start()
print("FORGED thread started")
