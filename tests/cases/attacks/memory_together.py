# An extra cell: three processes of 2.5 GiB each (each under the per-process limit, 7.5 GiB together).
import os
import time

children = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        try:
            block = bytearray(int(2.5 * 2**30))
            block[::4096] = b"x" * len(block[::4096])
            time.sleep(3)
            os._exit(0)
        except MemoryError:
            os._exit(3)
    children.append(pid)
codes = []
for pid in children:
    _, status = os.waitpid(pid, 0)
    codes.append(os.waitstatus_to_exitcode(status))
print("MEMORY together: exit codes", codes)
