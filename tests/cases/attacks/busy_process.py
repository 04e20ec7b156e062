# An extra cell: leave a busy process behind, and a later look at whether it still runs.
import os

_busy = os.fork()
if _busy == 0:
    while True:
        pass
print("BUSY started", _busy)
