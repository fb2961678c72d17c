#!/usr/bin/python3
"""fcgi_listen.py: starts a FastCGI program on a unix socket that is already listening.

usage: fcgi_listen.py SOCKET PROGRAM [ARGS...]

Binds and listens on the unix socket SOCKET (removed first if a stale one is there), puts
it on fd 0 (FCGI_LISTENSOCK_FILENO: where a FastCGI program such as fcgiwrap accepts when
it is given no socket of its own), prints "ready" on stdout and execs PROGRAM in this same
process. So the socket accepts connections before the program even starts (the kernel
queues them), the test waits on the "ready" line instead of sleeping, and the pid the test
started is the server's (stopped by pid). The tls tests run fcgiwrap this way, for
`git http-backend` behind nginx.
"""
import os
import socket
import sys

BACKLOG = 64  # nginx opens one FastCGI connection per request; git runs a few at once


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: fcgi_listen.py SOCKET PROGRAM [ARGS...]\n")
        return 2
    path, argv = sys.argv[1], sys.argv[2:]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(BACKLOG)
    os.dup2(sock.fileno(), 0)  # dup2 clears close-on-exec on fd 0
    sock.close()
    print("ready", flush=True)
    os.execv(argv[0], argv)
    return 1


if __name__ == "__main__":
    sys.exit(main())
