# An extra cell (the notebook has several): sleeps under the cell timeout. Each one adds its time; only the
# notebook's own grading time limit bounds the whole.
import time

time.sleep(SLOW_SECONDS)
print("SLOW slept", SLOW_SECONDS)
