#!/usr/bin/python3
"""static_http.py: serves a directory over HTTP/1.0 (the pip test's simple index).

usage: static_http.py DIR ADDR PORT

Prints "ready" on stdout once listening, so the test waits on that line instead of
sleeping. Request logs go to stderr.
"""
import functools
import http.server
import sys


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: static_http.py DIR ADDR PORT\n")
        return 2
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
    srv = http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), handler)
    print("ready", flush=True)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
