#!/usr/bin/python3
"""make_tls_index.py: a PyPI look-alike for the TLS tests, laid out as pypi.org is.

usage: make_tls_index.py INDEX_DIR FILES_DIR FILES_URL

Builds the same hand-made wheel as make_index.py (agentcage-probe 1.0, a module
`agentcage_probe` with VALUE = "probe-ok") with python3 alone (zipfile) and writes:
  FILES_DIR/packages/agentcage_probe-1.0-py3-none-any.whl    (files.pythonhosted.org)
  INDEX_DIR/simple/index.html                                 (pypi.org, PEP 503)
  INDEX_DIR/simple/agentcage-probe/index.html
the project page linking to FILES_URL/packages/<wheel>#sha256=<digest>, an absolute URL on
another host, as pypi.org links to files.pythonhosted.org: pip opens two TLS streams to
two names, both through the proxy.
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_index import NAME, VERSION, build_wheel  # noqa: E402  (same directory)

PROJECT = "agentcage-probe"


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: make_tls_index.py INDEX_DIR FILES_DIR FILES_URL\n")
        return 2
    index, files, url = sys.argv[1], sys.argv[2], sys.argv[3].rstrip("/")
    whl = f"{NAME}-{VERSION}-py3-none-any.whl"
    os.makedirs(os.path.join(files, "packages"), exist_ok=True)
    os.makedirs(os.path.join(index, "simple", PROJECT), exist_ok=True)
    path = os.path.join(files, "packages", whl)
    build_wheel(path)
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(index, "simple", "index.html"), "w") as f:
        f.write(f'<!DOCTYPE html><html><body><a href="{PROJECT}/">{PROJECT}</a>'
                '</body></html>\n')
    with open(os.path.join(index, "simple", PROJECT, "index.html"), "w") as f:
        f.write(f'<!DOCTYPE html><html><body><a href="{url}/packages/{whl}#sha256={sha}">'
                f'{whl}</a></body></html>\n')
    return 0


if __name__ == "__main__":
    sys.exit(main())
