# A cell after busy_process: is the busy process still there? (A killed child stays a zombie until waited for.)
import os

finished, status = os.waitpid(_busy, os.WNOHANG)
print("BUSY gone" if finished else "BUSY still running")
