# An extra cell: leave files behind everywhere the sandbox can write, then kill the sandbox's own kernel mid-cell
# (its processes die; the grader starts it again). Nothing of it may be left on the host afterwards.
import os
import signal

for target in ["/tmp/matplotlib/left", "/tmp/ipc/left", "/dev/shm/left", "left"]:
    try:
        with open(target, "wb") as f:
            f.write(b"\0" * 2**20)
    except OSError:
        pass
print("KEEP written")
os.kill(os.getpid(), signal.SIGKILL)
