"""molecule/default/find_secrets.py: where secrets are written, told without showing them.

The script is run as molecule/default/secrets.yml runs it (a process, the secrets on stdin) on files,
compressed files, a symbolic link and a command of the test's own; a few functions are called directly.
"""

import base64
import bz2
import gzip
import importlib.util
import json
import lzma
import pathlib
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "molecule" / "default" / "files" / "find_secrets.py"
SPEC = importlib.util.spec_from_file_location("find_secrets", SCRIPT)
find_secrets = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(find_secrets)

KEY = bytes(range(256))[::-1] * 2  # binary, like a corosync-keygen key
KEY_TEXT = base64.b64encode(bytes(range(7, 199))).decode()  # like the collection's key: base64 text, 256 chars
PASSWORD = "Vnc-9x!z"
BMC = 'bmc"pass\\word'  # quotes and a backslash: JSON escapes them


def run(tmp_path, secrets, *args, check=True):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        input=json.dumps({"secrets": secrets}),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    everything = proc.stdout + proc.stderr
    for secret in secrets:
        raw = base64.b64decode(secret["value_b64"]) if "value_b64" in secret else secret["value"].encode()
        for _form, needle in find_secrets.forms(raw):
            assert needle.decode("latin-1") not in everything, "the script printed a secret"
    if check:
        assert proc.returncode in (0, 1), everything
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.startswith("{") else None)


def places(result, secret=None):
    return sorted({(f["place"], f["form"]) for f in result["found"] if secret in (None, f["secret"])})


def test_a_secret_in_a_file_is_found_with_its_line_and_offset_and_a_clean_file_is_not(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "log").write_text("first line\nsecond " + PASSWORD + " and " + PASSWORD + "\n")
    (tmp_path / "d" / "clean").write_text("nothing here\n" * 1000)
    rc, result = run(tmp_path, [{"name": "vnc", "value": PASSWORD}], tmp_path / "d")
    assert rc == 0
    hit = result["found"][0]
    assert (hit["secret"], hit["form"], hit["place"]) == ("vnc", "raw", str(tmp_path / "d" / "log"))
    assert hit["count"] == 2
    assert hit["first"] == [{"line": 2, "offset": 18}, {"line": 2, "offset": 18 + len(PASSWORD) + 5}]
    assert not hit["allowed"]
    assert result["leaks"] == result["found"]
    assert len(result["found"]) == 1
    assert result["searched"]["files"] == 2
    assert result["searched"]["bytes"] == sum(p.stat().st_size for p in (tmp_path / "d").iterdir())


def test_allowed_places_are_found_but_are_no_leak_and_fail_exits_1_only_for_a_leak(tmp_path):
    (tmp_path / "authkey").write_text(KEY_TEXT)
    (tmp_path / "copy").write_text("x" + KEY_TEXT)
    secret = {"name": "corosync key", "value": KEY_TEXT, "allowed": ["h1:*/authkey"]}
    rc, result = run(tmp_path, [secret], "--label", "h1:", "--fail", tmp_path / "authkey", tmp_path / "copy")
    assert rc == 1
    assert [(f["place"], f["allowed"]) for f in result["found"]] == [
        ("h1:" + str(tmp_path / "authkey"), True),
        ("h1:" + str(tmp_path / "copy"), False),
    ]
    assert [f["place"] for f in result["leaks"]] == ["h1:" + str(tmp_path / "copy")]
    rc, result = run(tmp_path, [secret], "--label", "h1:", "--fail", tmp_path / "authkey")
    assert rc == 0
    assert result["leaks"] == []


@pytest.mark.parametrize("before", range(6))
def test_base64_of_a_text_that_holds_the_secret_is_found_at_every_alignment(tmp_path, before):
    # what a slurp of a file holding the key prints, or a base64 copy of such a file
    text = b"k" * before + KEY_TEXT.encode() + b"\n"
    (tmp_path / "slurped").write_bytes(b'{"content": "' + base64.b64encode(text) + b'"}')
    _unused, result = run(tmp_path, [{"name": "corosync key", "value": KEY_TEXT}], tmp_path / "slurped")
    assert [f["form"] for f in result["found"]] == [("base64", "base64+1", "base64+2")[before % 3]]


def test_a_binary_key_is_found_as_bytes_base64_and_hex_in_either_case(tmp_path):
    (tmp_path / "bin").write_bytes(b"\0head" + KEY + b"tail")
    (tmp_path / "b64").write_text(base64.b64encode(KEY).decode())
    (tmp_path / "hex").write_text("key=" + KEY.hex() + "\n")
    (tmp_path / "HEX").write_text("key=" + KEY.hex().upper() + "\n")
    secret = {"name": "key", "value_b64": base64.b64encode(KEY).decode()}
    _unused, result = run(tmp_path, [secret], tmp_path)
    assert places(result) == [
        (str(tmp_path / "HEX"), "HEX"),
        (str(tmp_path / "b64"), "base64"),
        (str(tmp_path / "bin"), "raw"),
        (str(tmp_path / "hex"), "hex"),
    ]
    assert result["secrets"] == [
        {"name": "key", "length": 512, "forms": ["raw", "base64", "base64+1", "base64+2", "hex", "HEX"]}
    ]


def test_a_json_escaped_secret_is_found(tmp_path):
    (tmp_path / "out.json").write_text(json.dumps({"module_args": {"password": BMC}}))
    _unused, result = run(tmp_path, [{"name": "bmc", "value": BMC}], tmp_path / "out.json")
    assert places(result) == [(str(tmp_path / "out.json"), "json")]


@pytest.mark.parametrize(
    ("suffix", "compress", "kind"),
    [(".bz2", bz2.compress, "bz2"), (".gz", gzip.compress, "gzip"), (".xz", lzma.compress, "xz")],
)
def test_compressed_files_are_searched_decompressed(tmp_path, suffix, compress, kind):
    cib = ("<cib>" + "<nvpair name='x' value='y'/>" * 5000 + "<nvpair name='password' value='%s'/></cib>") % PASSWORD
    path = tmp_path / ("pe-input-7" + suffix)
    path.write_bytes(compress(cib.encode()))
    _unused, result = run(tmp_path, [{"name": "bmc", "value": PASSWORD}], tmp_path)
    assert places(result) == [(str(path) + " (%s)" % kind, "raw")]
    assert result["found"][0]["first"][0]["offset"] == cib.index(PASSWORD)
    assert result["searched"]["decompressed"] == 1


def test_a_damaged_compressed_file_is_reported_skipped_not_silently_passed(tmp_path):
    (tmp_path / "bad.bz2").write_bytes(b"BZh9" + b"\0" * 40)
    _unused, result = run(tmp_path, [{"name": "bmc", "value": PASSWORD}], tmp_path)
    assert result["searched"]["skipped"] == [
        {"place": str(tmp_path / "bad.bz2") + " (bz2)", "why": "not decompressed: OSError"}
    ]


def test_a_secret_across_a_chunk_boundary_is_found_once(tmp_path, monkeypatch):
    monkeypatch.setattr(find_secrets, "CHUNK", 64)
    secret = find_secrets.Secret({"name": "s", "value": KEY_TEXT})
    for start in (0, 1, 30, 63, 64, 65, 200):
        data = b"a\n" * (start // 2) + b"a" * (start % 2) + KEY_TEXT.encode() + b"\n" + b"z" * 100
        search = find_secrets.Search([secret])
        chunks = [data[i : i + 64] for i in range(0, len(data), 64)]
        assert search.scan_stream("p", chunks) == len(data)
        hit = search.result()["found"]
        assert [(h["form"], h["count"], h["first"]) for h in hit] == [
            ("raw", 1, [{"line": start // 2 + 1, "offset": start}])
        ], start


def test_a_command_output_is_searched_and_its_exit_code_kept(tmp_path):
    secrets = [{"name": "vnc", "value": PASSWORD, "allowed": []}]
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "cib.xml").write_text("<graphics passwd='%s'/>" % PASSWORD)
    _unused, result = run(
        tmp_path,
        secrets,
        "--label",
        "h2:",
        "--command",
        "cib=cat %s" % (tmp_path / "elsewhere" / "cib.xml"),
        "--command",
        "missing=/nonexistent/cibadmin --query",
        "--command",
        "fails=%s -c 'raise SystemExit(3)'" % sys.executable,
    )
    assert places(result) == [("h2:$(cib)", "raw")]
    assert [(c["name"], c["rc"]) for c in result["searched"]["commands"]] == [
        ("cib", 0),
        ("missing", None),
        ("fails", 3),
    ]


def test_links_are_not_followed_and_excluded_paths_and_never_entered_dirs_are_not_searched(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text(PASSWORD)
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "link").symlink_to(tmp_path / "real" / "f")
    (tmp_path / "tree" / "dirlink").symlink_to(tmp_path / "real")
    (tmp_path / "tree" / "skip").mkdir()
    (tmp_path / "tree" / "skip" / "f").write_text(PASSWORD)
    _unused, result = run(
        tmp_path, [{"name": "vnc", "value": PASSWORD}], "--exclude", tmp_path / "tree" / "skip", tmp_path / "tree"
    )
    assert result["found"] == []
    assert result["searched"]["files"] == 0
    search = find_secrets.Search([find_secrets.Secret({"name": "vnc", "value": PASSWORD})])
    search.scan_path("/proc", [])
    assert search.files == 0


def test_an_unreadable_file_is_reported_skipped(tmp_path):
    _unused, result = run(tmp_path, [{"name": "vnc", "value": PASSWORD}], tmp_path / "absent")
    assert result["searched"]["skipped"] == [{"place": str(tmp_path / "absent"), "why": "No such file or directory"}]


@pytest.mark.parametrize(
    "given",
    [
        "not json " + PASSWORD,
        json.dumps({"secrets": [{"name": "x", "value_b64": PASSWORD}]}),
        json.dumps({"secrets": [{"value": PASSWORD}]}),
        json.dumps({"secrets": [{"name": "x", "value": ""}]}),
    ],
)
def test_bad_secrets_input_is_refused_without_quoting_it(tmp_path, given):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], input=given, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "error" in json.loads(proc.stdout)
    assert PASSWORD not in proc.stdout + proc.stderr


def test_the_json_callback_output_is_counted_and_searched(tmp_path):
    doc = {
        "plays": [
            {
                "play": {"name": "p"},
                "tasks": [
                    {"task": {"name": "a"}, "hosts": {"h1": {"changed": True, "diff": [{"after": "x"}]}, "h2": {}}},
                    {"task": {"name": "b"}, "hosts": {"h1": {"invocation": {"module_args": {"password": PASSWORD}}}}},
                ],
            }
        ],
        "stats": {"h1": {"ok": 2, "failures": 0, "unreachable": 0}},
    }
    out = tmp_path / "site.json"
    # profile_tasks prints its banners around the JSON document
    out.write_text(
        "Monday 07 December 2026  02:30:00 +0000 (0:00:00.012) {x}\n" + json.dumps(doc, indent=4) + "\n===\n"
    )
    _unused, result = run(
        tmp_path, [{"name": "bmc", "value": PASSWORD}], "--label", "controller:", "--playbook-json", out
    )
    assert places(result) == [("controller:" + str(out), "raw")]
    assert result["playbooks"] == {
        "controller:" + str(out): {"plays": 1, "tasks": 2, "results": 3, "diffs": 1, "stats": doc["stats"]}
    }
    out.write_text("no JSON here\n{ not json\n")
    _unused, result = run(tmp_path, [{"name": "bmc", "value": PASSWORD}], "--playbook-json", out)
    assert result["playbooks"] == {str(out): None}


def test_short_base64_fragments_are_not_searched():
    assert [name for name, _unused in find_secrets.forms(b"abz")] == ["raw", "hex", "HEX"]
    assert all(len(core) >= find_secrets.MIN_ENCODED for core in find_secrets.b64_cores(PASSWORD.encode()))


def test_a_file_hit_carries_the_file_mode_and_owner_and_a_command_hit_none(tmp_path):
    (tmp_path / "authkey").write_text(KEY_TEXT)
    (tmp_path / "authkey").chmod(0o400)
    (tmp_path / "copy.gz").write_bytes(gzip.compress(KEY_TEXT.encode()))
    (tmp_path / "copy.gz").chmod(0o644)
    _unused, result = run(
        tmp_path, [{"name": "k", "value": KEY_TEXT}], "--command", "out=cat %s" % (tmp_path / "authkey"), tmp_path
    )
    modes = {f["place"]: (f.get("mode"), f.get("uid")) for f in result["found"]}
    uid = (tmp_path / "authkey").stat().st_uid
    assert modes == {
        str(tmp_path / "authkey"): ("0400", uid),
        str(tmp_path / "copy.gz") + " (gzip)": ("0644", uid),
        "$(out)": (None, None),
    }


def test_secrets_from_a_file_that_is_never_searched_itself(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "secrets.json").write_text(json.dumps({"secrets": [{"name": "vnc", "value": PASSWORD}]}))
    (tmp_path / "d" / "leak").write_text(PASSWORD)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--secrets", str(tmp_path / "d" / "secrets.json"), str(tmp_path / "d")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(proc.stdout)
    assert places(result) == [(str(tmp_path / "d" / "leak"), "raw")]
    assert result["searched"]["files"] == 1
    assert PASSWORD not in proc.stdout
