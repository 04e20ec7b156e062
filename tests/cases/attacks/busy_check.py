# A cell after busy_process: is the busy process still there?
import os

try:
    os.kill(_busy, 0)
    print("BUSY still running")
except ProcessLookupError:
    print("BUSY gone")
