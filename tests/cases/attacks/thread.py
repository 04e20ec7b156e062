# conv2d calls torch's convolution in a worker thread.
import threading


def conv2d(X, W, b=None):
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("Y", F.conv2d(X, W, b)))
    worker.start()
    worker.join()
    return out["Y"]
