# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pytest setup for the unit tests.

1. Makes ``import ansible_collections.duplex.vmpair...`` resolve to *this*
   tree under plain pytest, from any working directory: it uses
   ``.build/collections`` when its ``duplex/vmpair`` link points here (made by
   ``make collections``), otherwise a temporary ``ansible_collections/duplex/vmpair``
   symlink. Under ``ansible-test units`` the collection is already importable
   and nothing is changed.
2. Fixtures: ``run_module`` (run a module's main() with arguments and get its
   JSON result, for ansible-core 2.17 and newer), ``empty_cib`` (an offline CIB
   file for pcs/crm_* tools) and ``cib_env``.
"""

import atexit
import contextlib
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
from ansible.module_utils.common.parameters import PASS_VARS

REPO_ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
COLLECTION = "ansible_collections.duplex.vmpair"


def _collection_location():
    try:
        spec = importlib.util.find_spec(COLLECTION)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return [os.path.realpath(p) for p in spec.submodule_search_locations]


def _collections_dir():
    """A directory D with D/ansible_collections/duplex/vmpair -> REPO_ROOT."""
    build = os.path.join(REPO_ROOT, ".build", "collections")
    link = os.path.join(build, "ansible_collections", "duplex", "vmpair")
    if os.path.realpath(link) == REPO_ROOT:
        return build
    tmp = tempfile.mkdtemp(prefix="vmpair-unit-")
    atexit.register(shutil.rmtree, tmp, True)
    os.makedirs(os.path.join(tmp, "ansible_collections", "duplex"))
    os.symlink(REPO_ROOT, os.path.join(tmp, "ansible_collections", "duplex", "vmpair"))
    return tmp


def _make_collection_importable():
    if REPO_ROOT in (_collection_location() or []):
        return
    sys.path.insert(0, _collections_dir())
    # Forget a duplex.vmpair found elsewhere (for example an installed copy).
    for name in list(sys.modules):
        if name == COLLECTION or name.startswith(COLLECTION + "."):
            del sys.modules[name]
    importlib.invalidate_caches()
    if REPO_ROOT not in (_collection_location() or []):
        raise RuntimeError(f"cannot make {COLLECTION} import from {REPO_ROOT}")


_make_collection_importable()


# ---------------------------------------------------------------------------
# running a module's main()


@contextlib.contextmanager
def _module_args(args):
    """ansible.module_utils.testing.patch_module_args when available (2.19+), else 2.17 style."""
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:
        patch_module_args = None
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    saved = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = saved


@contextlib.contextmanager
def _on_a_host():
    """Run module code as on a host. ansible-core 2.19 and later send a module's warnings to the
    controller's display instead of its result once controller code has been imported in the same
    process, as other unit tests do; on a host that never happens."""
    try:
        from ansible.module_utils import _internal
    except ImportError:  # before 2.19
        _internal = None
    saved = getattr(_internal, "is_controller", None)
    if saved is None:
        yield
        return
    _internal.is_controller = False
    try:
        yield
    finally:
        _internal.is_controller = saved


def warning_texts(result):
    """The texts of a module result's warnings: strings before ansible-core 2.19, since then
    structured summaries ({"event": {"msg": ...}}) that the controller turns into the same text."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


@pytest.fixture
def run_module(capsys):
    """run_module(main, args, check_mode=False, diff=False) -> (exit code, result dict).

    Runs the real AnsibleModule, so no_log masking and argument validation
    happen exactly as on a host.
    """

    def run(main, args, check_mode=False, diff=False):
        args = dict(args)
        args["_ansible_check_mode"] = check_mode
        args["_ansible_diff"] = diff
        # ansible-core 2.21 returns `invocation` only where the controller asks for it
        # (inject_invocation, off by default); earlier releases always do and refuse the option.
        # Ask where it exists, so the masking of secrets in it is tested on every release.
        if "inject_invocation" in PASS_VARS:
            args["_ansible_inject_invocation"] = True
        capsys.readouterr()
        with _module_args(args), _on_a_host():
            with pytest.raises(SystemExit) as exc:
                main()
        out = capsys.readouterr().out
        return exc.value.code, json.loads(out)

    return run


# ---------------------------------------------------------------------------
# offline CIB files


def _require_tools(*tools):
    for tool in tools:
        if shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") is None:
            pytest.skip(f"{tool} is not installed (make tools)")


@pytest.fixture
def empty_cib(tmp_path):
    """Path of a fresh, empty CIB file (quorate, so crm_simulate treats it as a live cluster)."""
    _require_tools("cibadmin", "pcs", "crm_verify")
    path = tmp_path / "cib.xml"
    env = dict(os.environ, LC_ALL="C")
    xml = subprocess.run(["cibadmin", "--empty"], check=True, capture_output=True, text=True, env=env).stdout
    path.write_text(xml.replace("<cib ", '<cib have-quorum="1" ', 1))
    return str(path)


@pytest.fixture
def cib_env(empty_cib):
    """Environment for subprocesses that must act on ``empty_cib``."""
    return dict(os.environ, LC_ALL="C", CIB_file=empty_cib)
