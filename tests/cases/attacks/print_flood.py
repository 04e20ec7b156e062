# An extra cell: print 500 MB.
print("x" * 500_000_000)
