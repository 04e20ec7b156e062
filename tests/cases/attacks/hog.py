# An extra cell: one allocation of 64 GiB.
try:
    hog = bytearray(64 * 2**30)
    print("HOG allocated 64 GiB")
except MemoryError:
    print("HOG MemoryError")
