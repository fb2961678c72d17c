#!/usr/bin/python3
"""make_index.py: builds a PEP 503 simple index holding one hand-made wheel.

usage: make_index.py DIR

Writes DIR/packages/agentcage_probe-1.0-py3-none-any.whl (a module `agentcage_probe`
with VALUE = "probe-ok", and its dist-info METADATA, WHEEL and RECORD) and
DIR/simple/index.html, DIR/simple/agentcage-probe/index.html linking to it with its
sha256, so `pip install --index-url http://HOST/simple/ agentcage-probe` works offline.
"""
import base64
import hashlib
import os
import sys
import zipfile

NAME, VERSION = "agentcage_probe", "1.0"


def record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_wheel(path):
    dist = f"{NAME}-{VERSION}.dist-info"
    files = {
        f"{NAME}/__init__.py": b'VALUE = "probe-ok"\n',
        f"{dist}/METADATA": (f"Metadata-Version: 2.1\nName: agentcage-probe\n"
                             f"Version: {VERSION}\nSummary: proxy test package\n").encode(),
        f"{dist}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: agentcage-tests\n"
                          b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
    }
    record = "".join(f"{n},{record_hash(d)},{len(d)}\n" for n, d in files.items())
    record += f"{dist}/RECORD,,\n"
    files[f"{dist}/RECORD"] = record.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: make_index.py DIR\n")
        return 2
    top = sys.argv[1]
    whl = f"{NAME}-{VERSION}-py3-none-any.whl"
    os.makedirs(os.path.join(top, "packages"), exist_ok=True)
    os.makedirs(os.path.join(top, "simple", "agentcage-probe"), exist_ok=True)
    build_wheel(os.path.join(top, "packages", whl))
    with open(os.path.join(top, "packages", whl), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(top, "simple", "index.html"), "w") as f:
        f.write('<!DOCTYPE html><html><body>'
                '<a href="agentcage-probe/">agentcage-probe</a></body></html>\n')
    with open(os.path.join(top, "simple", "agentcage-probe", "index.html"), "w") as f:
        f.write(f'<!DOCTYPE html><html><body><a href="../../packages/{whl}#sha256={sha}">'
                f'{whl}</a></body></html>\n')
    return 0


if __name__ == "__main__":
    sys.exit(main())
