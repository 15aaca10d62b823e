# SPDX-License-Identifier: GPL-3.0-or-later
"""Find where secrets are written: every file, decompressed file and command output that holds one.

Usage: python3 find_secrets.py [--label HOST:] [--command NAME=COMMAND]... [--exclude PATH]... [--secrets FILE] PATH...
with the secrets as JSON on stdin or in FILE (never searched), never on the command line, where ps shows them:

    {"secrets": [{"name": "corosync key", "value_b64": "...",          # or "value": "text"
                  "allowed": ["hv-east:/etc/corosync/authkey", "*:/etc/corosync/authkey"]}]}

It prints one JSON document: where each secret was found (its name, the encoding found, the place,
the line and byte offset of the first hits and their number, a file's mode and owner) and whether
the place is one of the secret's ``allowed`` places (fnmatch patterns on the place), the leaks (found where not allowed),
and what was searched (files, bytes, commands, what was skipped and why). It never prints a secret
or any part of a file: a hit is told by its place and offset only.

Each secret is searched in the forms it could be written in: as is, JSON-escaped, base64 (at each of
the three alignments base64 can give it inside a longer text: a slurp of a file that holds it, a
base64 copy of such a file), and hexadecimal (lower and upper case). A binary secret (a key file,
given as ``value_b64``) is searched in the same forms of its bytes.

A place is ``LABEL`` + the file's path; files compressed with bzip2, gzip or xz (by their magic
bytes: Pacemaker's pe-input-*.bz2, rotated logs) are searched decompressed as well as stored, and a
command's output (``--command cib=cibadmin --query``) is the place ``LABEL$(cib)``. Symbolic links
are not followed; /proc, /sys and /dev are never entered; sockets, devices and FIFOs are skipped.

Run by molecule/default/secrets.yml on each lab host and on the controller; tests/lab/test_find_secrets.py
runs it on files, compressed files and commands of its own.
"""

import argparse
import base64
import bz2
import fnmatch
import gzip
import json
import lzma
import os
import shlex
import stat
import subprocess
import sys

CHUNK = 1 << 20
MAX_FIRST = 5  # offsets reported per (secret, form, place)
NEVER = ("/proc", "/sys", "/dev")
MIN_ENCODED = 8  # shorter base64 fragments would match by chance
MAGIC = ((b"BZh", "bz2"), (b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"))


def b64_cores(raw):
    """The parts of base64 text that hold ``raw`` whatever precedes it: one per alignment (0, 1, 2 bytes before)."""
    cores = []
    for k in range(3):
        encoded = base64.b64encode(b"\0" * k + raw)
        n = k + len(raw)
        start = (0, 2, 3)[k]
        end = (n // 3) * 4 + (0, 1, 2)[n % 3]
        core = encoded[start:end]
        if len(core) >= MIN_ENCODED and core not in cores:
            cores.append(core)
    return cores


def forms(raw):
    """``[(form name, needle bytes)]``: every encoding of ``raw`` to look for, without duplicates."""
    out = [("raw", raw)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        escaped = json.dumps(text)[1:-1].encode("ascii")
        out.append(("json", escaped))
    for i, core in enumerate(b64_cores(raw)):
        out.append(("base64" if i == 0 else "base64+%d" % i, core))
    out.append(("hex", raw.hex().encode("ascii")))
    out.append(("HEX", raw.hex().upper().encode("ascii")))
    seen = set()
    unique = []
    for name, needle in out:
        if needle and needle not in seen:
            seen.add(needle)
            unique.append((name, needle))
    return unique


class Secret:
    def __init__(self, spec):
        if not isinstance(spec, dict) or not spec.get("name"):
            raise ValueError("each secret needs a name")
        self.name = str(spec["name"])
        if spec.get("value_b64") is not None:
            self.raw = base64.b64decode(spec["value_b64"], validate=True)
        elif spec.get("value") is not None:
            self.raw = str(spec["value"]).encode("utf-8")
        else:
            raise ValueError("secret %s has no value or value_b64" % self.name)
        if not self.raw:
            raise ValueError("secret %s is empty" % self.name)
        self.allowed = [str(p) for p in spec.get("allowed") or []]
        self.forms = forms(self.raw)

    def allows(self, place):
        return any(fnmatch.fnmatchcase(place, pattern) for pattern in self.allowed)


def load_secrets(text):
    """The secrets of the JSON document ``text``; errors never quote it (it holds the values)."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise ValueError("the secrets given on stdin are not JSON") from None
    specs = doc.get("secrets") if isinstance(doc, dict) else doc
    if not isinstance(specs, list):
        raise ValueError('the secrets must be a list, or {"secrets": [...]}')
    try:
        return [Secret(s) for s in specs]
    except (TypeError, ValueError) as exc:
        # binascii's message names no value; ours name the secret only
        raise ValueError("secrets: %s" % (exc if isinstance(exc, ValueError) else "bad value")) from None


class Search:
    def __init__(self, secrets, label=""):
        self.secrets = secrets
        self.label = label
        self.needles = [(s, name, needle) for s in secrets for name, needle in s.forms]
        self.overlap = max((len(n) for _unused, _unused, n in self.needles), default=1) - 1
        self.hits = {}  # (secret name, form, place) -> {"count", "first": [{"line", "offset"}]}
        self.order = []
        self.files = 0
        self.bytes = 0
        self.decompressed = 0
        self.commands = []
        self.skipped = []
        self.current = None  # os.stat of the file being searched: its mode and owner go with its hits

    # ------------------------------------------------------------------ scanning
    def scan_stream(self, place, chunks):
        """Search the byte chunks of one place; returns the number of bytes read."""
        tail = b""
        base = 0  # offset of tail[0] in the stream
        lines_before = 0  # newlines before tail[0]
        total = 0
        for chunk in chunks:
            if not chunk:
                continue
            total += len(chunk)
            buf = tail + chunk
            new_from = len(tail)  # a hit must end in the new bytes, or it was found before
            for secret, form, needle in self.needles:
                start = max(0, new_from - len(needle) + 1)
                pos = buf.find(needle, start)
                while pos != -1:
                    self._hit(secret, form, place, base + pos, lines_before + buf.count(b"\n", 0, pos) + 1)
                    pos = buf.find(needle, pos + 1)
            keep = min(self.overlap, len(buf))
            cut = len(buf) - keep
            lines_before += buf.count(b"\n", 0, cut)
            base += cut
            tail = buf[cut:]
        return total

    def _hit(self, secret, form, place, offset, line):
        key = (secret.name, form, place)
        entry = self.hits.get(key)
        if entry is None:
            entry = self.hits[key] = {"count": 0, "first": [], "allowed": secret.allows(place)}
            if self.current is not None:
                entry["mode"] = "%04o" % stat.S_IMODE(self.current.st_mode)
                entry["uid"] = self.current.st_uid
            self.order.append(key)
        entry["count"] += 1
        if len(entry["first"]) < MAX_FIRST:
            entry["first"].append({"line": line, "offset": offset})

    def scan_file(self, path):
        place = self.label + path
        try:
            f = open(path, "rb")
        except OSError as exc:
            self.skipped.append({"place": place, "why": exc.strerror or str(exc)})
            return
        with f:
            try:
                self.current = os.fstat(f.fileno())
                head = f.read(8)
                f.seek(0)
                self.bytes += self.scan_stream(place, iter(lambda: f.read(CHUNK), b""))
            except OSError as exc:
                self.skipped.append({"place": place, "why": exc.strerror or str(exc)})
                self.current = None
                return
            self.files += 1
            kind = next((k for magic, k in MAGIC if head.startswith(magic)), None)
            if kind:
                self.scan_compressed(path, place, kind)
            self.current = None

    def scan_compressed(self, path, place, kind):
        opener = {"bz2": bz2.open, "gzip": gzip.open, "xz": lzma.open}[kind]
        try:
            with opener(path, "rb") as f:  # the stored file's mode and owner (self.current) hold here too
                self.bytes += self.scan_stream(place + " (%s)" % kind, iter(lambda: f.read(CHUNK), b""))
            self.decompressed += 1
        except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            self.skipped.append({"place": place + " (%s)" % kind, "why": "not decompressed: %s" % type(exc).__name__})

    def scan_path(self, path, excluded):
        path = os.path.abspath(path)
        if any(path == e or path.startswith(e.rstrip("/") + "/") for e in excluded):
            return
        try:
            st = os.lstat(path)
        except OSError as exc:
            self.skipped.append({"place": self.label + path, "why": exc.strerror or str(exc)})
            return
        if stat.S_ISLNK(st.st_mode):
            return
        if stat.S_ISREG(st.st_mode):
            self.scan_file(path)
        elif stat.S_ISDIR(st.st_mode):
            if path in NEVER:
                return
            try:
                names = sorted(os.listdir(path))
            except OSError as exc:
                self.skipped.append({"place": self.label + path, "why": exc.strerror or str(exc)})
                return
            for name in names:
                self.scan_path(os.path.join(path, name), excluded)

    def scan_command(self, name, command):
        place = "%s$(%s)" % (self.label, name)
        try:
            proc = subprocess.run(shlex.split(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        except OSError as exc:
            self.commands.append({"name": name, "rc": None, "bytes": 0, "error": exc.strerror or str(exc)})
            return
        self.bytes += self.scan_stream(place, [proc.stdout])
        self.commands.append({"name": name, "rc": proc.returncode, "bytes": len(proc.stdout)})

    # ------------------------------------------------------------------ result
    def result(self):
        found = []
        for key in self.order:
            secret, form, place = key
            entry = self.hits[key]
            found.append(dict(secret=secret, form=form, place=place, **entry))
        return {
            "found": found,
            "leaks": [f for f in found if not f["allowed"]],
            "secrets": [
                {"name": s.name, "length": len(s.raw), "forms": [f for f, _unused in s.forms]} for s in self.secrets
            ],
            "searched": {
                "label": self.label,
                "files": self.files,
                "decompressed": self.decompressed,
                "bytes": self.bytes,
                "commands": self.commands,
                "skipped": self.skipped,
            },
        }


def playbook_summary(path):
    """What an ansible-playbook run with ANSIBLE_STDOUT_CALLBACK=ansible.posix.json printed: its plays, tasks,
    host results and recap, from the callback's JSON document in ``path`` (other callbacks' lines may
    surround it). None when there is none."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    decoder = json.JSONDecoder()
    pos = 0 if text.startswith("{") else text.find("\n{") + 1
    while pos > 0 or text.startswith("{"):
        try:
            doc, _unused = decoder.raw_decode(text, pos)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and "plays" in doc and "stats" in doc:
            tasks = [t for play in doc["plays"] for t in play.get("tasks", [])]
            return {
                "plays": len(doc["plays"]),
                "tasks": len(tasks),
                "results": sum(len(t.get("hosts", {})) for t in tasks),
                "diffs": sum(
                    1 for t in tasks for r in t.get("hosts", {}).values() if isinstance(r, dict) and r.get("diff")
                ),
                "stats": doc["stats"],
            }
        nxt = text.find("\n{", pos)
        if nxt == -1:
            break
        pos = nxt + 1
    return None


def main(argv=None, stdin=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", nargs="*", help="files and directories to search (directories recursively)")
    parser.add_argument("--label", default="", help="prefix of every place, e.g. the host's name and a colon")
    parser.add_argument(
        "--command", action="append", default=[], metavar="NAME=COMMAND", help="search a command's output"
    )
    parser.add_argument("--exclude", action="append", default=[], help="a file or directory not to search")
    parser.add_argument(
        "--playbook-json",
        action="append",
        default=[],
        help="also search this output of ansible-playbook's ansible.posix.json callback and count its tasks",
    )
    parser.add_argument(
        "--secrets", metavar="FILE", help="read the secrets from this JSON file (never searched) instead of stdin"
    )
    parser.add_argument("--fail", action="store_true", help="exit 1 when a secret is found where it is not allowed")
    args = parser.parse_args(argv)
    try:
        if args.secrets:
            with open(args.secrets, encoding="utf-8") as f:
                text = f.read()
        else:
            text = (stdin or sys.stdin).read()
        secrets = load_secrets(text)
    except OSError as exc:
        print(json.dumps({"error": "cannot read %s: %s" % (args.secrets, exc.strerror)}))
        return 2
    except ValueError as exc:
        print(json.dumps({"error": str(exc)}))
        return 2
    search = Search(secrets, args.label)
    excluded = [os.path.abspath(e) for e in args.exclude + ([args.secrets] if args.secrets else [])]
    for path in args.paths + args.playbook_json:
        search.scan_path(path, excluded)
    for spec in args.command:
        name, sep, command = spec.partition("=")
        if not sep or not name or not command:
            parser.error("--command takes NAME=COMMAND, not %r" % spec)
        search.scan_command(name, command)
    result = search.result()
    if args.playbook_json:
        result["playbooks"] = {search.label + os.path.abspath(p): playbook_summary(p) for p in args.playbook_json}
    print(json.dumps(result, sort_keys=True))
    return 1 if args.fail and result["leaks"] else 0


if __name__ == "__main__":
    sys.exit(main())
