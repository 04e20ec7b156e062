# An extra cell: fill /tmp and the working folder (RAM-backed in the sandbox).
for target in ["/tmp/fill", "fill"]:
    written = 0
    try:
        with open(target, "wb") as f:
            chunk = b"\0" * 2**20
            while written < 4096:
                f.write(chunk)
                f.flush()
                written += 1
        print("TMP", target, "wrote", written, "MiB")
    except OSError as exc:
        print("TMP", target, "full after", written, "MiB:", type(exc).__name__)
