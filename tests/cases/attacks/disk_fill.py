# An extra cell: write 768 MiB into every place the sandbox may write (its matplotlib folder, its sockets'
# folder, its home, /dev/shm, /dev, the working folder), then report how far each got. Every one is capped.
import os

for target in [
    "/tmp/matplotlib/fill",
    "/tmp/ipc/fill",
    os.path.expanduser("~/fill"),
    "/dev/shm/fill",
    "/dev/fill",
    "fill",
    "/fill",
    "/rpc/fill",
]:
    written = 0
    try:
        with open(target, "wb") as f:
            chunk = b"\0" * 2**20
            while written < 768:
                f.write(chunk)
                f.flush()
                written += 1
        print("DISK", target, "wrote", written, "MiB")
    except OSError as exc:
        print("DISK", target, "full after", written, "MiB:", type(exc).__name__)
    finally:
        try:
            os.remove(target)  # room for the next one (each place is capped on its own)
        except OSError:
            pass
print("DISK done")
