# An extra cell: fork until refused.
import os
import time

children = []
try:
    while len(children) < 100000:
        pid = os.fork()
        if pid == 0:
            time.sleep(2)
            os._exit(0)
        children.append(pid)
    print("FORK unlimited", len(children))
except OSError as exc:
    print("FORK refused after", len(children), type(exc).__name__)
for pid in children:
    os.waitpid(pid, 0)
