# An extra cell: reach the internet and a server on the grader's own loopback (PORT is set by the test).
import socket

for address in [("1.1.1.1", 80), ("127.0.0.1", PORT)]:
    try:
        socket.create_connection(address, timeout=3).close()
        print("NETWORK connected", address)
    except OSError as exc:
        print("NETWORK refused", address, type(exc).__name__)
