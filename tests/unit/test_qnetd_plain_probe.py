# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plain-text qnetd probe of molecule/default/verify.yml against a real corosync-qnetd on localhost.

The lab check asserts that the witness answers the probe's init (sent without starttls) with a server error
TLS_REQUIRED. These tests show that answer comes from `-s req` only: the same probe gets an init reply from
qnetd with `-s on` and `-s off`, so the lab check cannot pass on a witness that merely offers TLS."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import shutil
import socket
import subprocess
import time

import pytest

REPO_ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROBE = os.path.join(REPO_ROOT, "molecule", "default", "files", "qnetd_plain_probe.py")


def load_probe():
    spec = importlib.util.spec_from_file_location("qnetd_plain_probe", PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def need(tool):
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin:/usr/bin")
    if path is None:
        pytest.fail("%s is not installed: run `make deps` (it installs the offline cluster tools)." % tool)
    return path


def nss_db(tmp_path):
    """A throwaway NSS database with a self-signed server certificate named as qnetd expects."""
    certutil = need("certutil")
    db = tmp_path / "nssdb"
    db.mkdir()
    (tmp_path / "pw").write_text("\n")
    (tmp_path / "noise").write_bytes(os.urandom(64))
    run = {"capture_output": True, "text": True, "timeout": 120}
    subprocess.run([certutil, "-N", "-d", "sql:%s" % db, "-f", str(tmp_path / "pw")], check=True, **run)
    subprocess.run(
        [certutil, "-S", "-n", "QNetd Cert", "-s", "CN=localhost", "-x", "-t", "CT,,", "-d", "sql:%s" % db]
        + ["-f", str(tmp_path / "pw"), "-z", str(tmp_path / "noise"), "-k", "rsa", "-g", "2048", "-v", "12"],
        check=True,
        **run,
    )
    return db


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def qnetd_db(tmp_path_factory):
    return nss_db(tmp_path_factory.mktemp("qnetd"))


def probe_qnetd(tls, db, tmp_path):
    qnetd = need("corosync-qnetd")
    port = free_port()
    settings = "nss_db_dir=%s,lock_file=%s,local_socket_file=%s" % (db, tmp_path / "lock", tmp_path / "sock")
    args = [qnetd, "-f", "-l", "127.0.0.1", "-p", str(port), "-s", tls, "-c", "on", "-S", settings]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail("corosync-qnetd did not listen: %s" % proc.communicate(timeout=5)[0])
                time.sleep(0.2)
        return load_probe().probe("127.0.0.1", port)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_qnetd_with_tls_required_refuses_the_plain_init(qnetd_db, tmp_path):
    result = probe_qnetd("req", qnetd_db, tmp_path)
    assert result["tls_supported"] == 2
    assert (result["reply"], result["error_code"]) == ("server_error", 3)


@pytest.mark.parametrize("tls", ["on", "off"])
def test_qnetd_without_tls_required_reads_the_plain_init(tls, qnetd_db, tmp_path):
    result = probe_qnetd(tls, qnetd_db, tmp_path)
    assert result["tls_supported"] == {"on": 1, "off": 0}[tls]
    assert result["reply"] == "init_reply" and result["error_code"] not in (0, 3)
