#!/usr/bin/python3
"""git_http.py: git smart HTTP for the proxy tests, run inside the lab's network namespace.

usage: git_http.py ROOT ADDR PORT

Serves every bare repository under ROOT by running `git http-backend` as a CGI program
(GIT_PROJECT_ROOT=ROOT, GIT_HTTP_EXPORT_ALL). Prints "ready" on stdout once listening,
so the test waits on that line instead of sleeping. One thread per request; the request
body is read by Content-Length or chunked transfer coding. Errors go to stderr.
"""
import http.server
import os
import subprocess
import sys
import urllib.parse

BODY_MAX = 64 << 20  # a test repository's push or fetch request is far smaller


class GitHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: the proxy tests want that
    root = "."

    def read_body(self):
        """The request body, whole (a CGI program reads it from stdin)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
                if len(out) > BODY_MAX:
                    raise ValueError("request body too large")
        length = int(self.headers.get("Content-Length", "0"))
        if length > BODY_MAX:
            raise ValueError("request body too large")
        return self.rfile.read(length)

    def run_backend(self):
        url = urllib.parse.urlsplit(self.path)
        env = {
            "PATH": "/usr/bin:/bin",
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": urllib.parse.unquote(url.path),
            "QUERY_STRING": url.query,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        body = self.read_body() if self.command == "POST" else b""
        env["CONTENT_LENGTH"] = str(len(body))
        proc = subprocess.run(["git", "http-backend"], input=body, env=env,
                              capture_output=True, check=False)
        if proc.stderr:
            sys.stderr.write(proc.stderr.decode(errors="replace"))
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = proc.stdout.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = run_backend
    do_POST = run_backend


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: git_http.py ROOT ADDR PORT\n")
        return 2
    GitHandler.root = os.path.abspath(sys.argv[1])
    srv = http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), GitHandler)
    print("ready", flush=True)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
