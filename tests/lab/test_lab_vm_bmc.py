"""lab/labvmbmc.py: each pair host's BMC on its own port, and `vm bmc-off` / `vm bmc-on`.

The real Redfish service (labvmbmc.bmcs: TLS, Basic auth, the handler) serves here in this process
on free ports of 127.0.0.1, for a lab whose lab.json and bmc.json (password, TLS key pair made by
openssl) are written by the lab's own code into a temporary state directory; the client is
http.client over TLS with the lab's user and password. No VM runs: every system's PowerState is Off
(no QEMU pid file), which is the answer the tests read.
"""

import argparse
import base64
import http.client
import json
import pathlib
import socket
import ssl
import sys
import threading

import pytest

LAB = pathlib.Path(__file__).resolve().parents[2] / "lab"
ROLES = ["east", "west", "witness"]
TIMEOUT = 2.0  # the client's: a dark BMC must not answer within it


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(name="lab")
def fixture_lab(monkeypatch, tmp_path):
    """The lab modules on a temporary state directory, a lab `bmc` with free BMC ports, its service."""
    monkeypatch.syspath_prepend(str(LAB))
    for name in [m for m in sys.modules if m.startswith("lab")]:
        monkeypatch.delitem(sys.modules, name)
    import labvm  # pylint: disable=import-outside-toplevel
    import labvmbmc  # pylint: disable=import-outside-toplevel
    import labvmbmcctl  # pylint: disable=import-outside-toplevel
    import labvmstate  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(labvmstate, "LABS_DIR", str(tmp_path / "labs"))
    plan = labvm.plan(9, ROLES)
    plan["ports"]["bmc"] = {"east": free_port(), "west": free_port()}
    lab = {"name": "bmc", "index": 9, "roles": ROLES, "memory": 1024, "plan": plan}
    (tmp_path / "labs" / "bmc").mkdir(parents=True)
    labvm.save(lab)
    creds = labvmbmcctl.credentials(lab)
    service = Service(labvmbmc)
    service.start()
    yield argparse.Namespace(
        labvm=labvm, labvmbmcctl=labvmbmcctl, lab=lab, service=service, ports=plan["ports"]["bmc"], creds=creds
    )
    service.stop()


class Service:
    """labvmbmc's BMCs served in threads of this process, as `lab.py vm bmc` serves them."""

    def __init__(self, labvmbmc):
        self.labvmbmc = labvmbmc
        self.servers = []

    def start(self):
        self.servers = self.labvmbmc.bmcs("bmc")
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self):
        for server in self.servers:
            server.shutdown()
            server.server_close()


def get(env, port, uri):
    """(status, JSON body) of an authenticated GET; TimeoutError when nothing answers within TIMEOUT."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the lab's self-signed certificate, as ssl_insecure=1
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=TIMEOUT, context=context)
    auth = base64.b64encode(f"{env.creds['username']}:{env.creds['password']}".encode()).decode()
    try:
        conn.request("GET", uri, headers={"Authorization": f"Basic {auth}"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def test_a_hosts_bmc_port_serves_its_own_system_and_not_the_others(lab):
    for role, host, other in (("east", "hv-east", "hv-west"), ("west", "hv-west", "hv-east")):
        port = lab.ports[role]
        status, body = get(lab, port, f"/redfish/v1/Systems/{host}")
        assert (status, body["Id"], body["PowerState"]) == (200, host, "Off")
        assert get(lab, port, f"/redfish/v1/Systems/{other}")[0] == 404
        assert get(lab, port, "/redfish/v1/Systems/qw1")[0] == 404
        status, body = get(lab, port, "/redfish/v1/Systems")
        assert body["Members"] == [{"@odata.id": f"/redfish/v1/Systems/{host}"}]


def cli(*argv):
    """`lab.py vm ...` as lab.py parses and dispatches it (lab.main itself also wants root)."""
    import labvmcli  # pylint: disable=import-outside-toplevel

    import lab as labpy  # pylint: disable=import-outside-toplevel

    return labvmcli.dispatch(labpy.build_parser().parse_args(["vm", *argv]))


def test_a_dark_bmc_never_answers_and_answers_again_when_back_on(lab, capsys):
    east, west = lab.ports["east"], lab.ports["west"]
    cli("bmc-off", "bmc", "west")
    with pytest.raises(TimeoutError):
        get(lab, west, "/redfish/v1/Systems/hv-west")
    assert get(lab, east, "/redfish/v1/Systems/hv-east")[0] == 200  # the other site's BMC still answers
    assert "hv-west ignored: its BMC is off" in capsys.readouterr().out  # what bmc.log gets
    log = pathlib.Path(lab.labvmbmcctl.files(lab.lab)["log"]).read_text()
    assert "BMC of hv-west off" in log

    # the state is the lab's, not the process's: a restarted service keeps the BMC dark
    lab.service.stop()
    lab.service.start()
    with pytest.raises(TimeoutError):
        get(lab, west, "/redfish/v1/Systems/hv-west")

    cli("bmc-on", "bmc", "hv-west")
    status, body = get(lab, west, "/redfish/v1/Systems/hv-west")
    assert (status, body["Id"]) == (200, "hv-west")
    assert "BMC of hv-west on" in pathlib.Path(lab.labvmbmcctl.files(lab.lab)["log"]).read_text()


def test_status_shows_each_bmc_and_which_is_dark(lab, capsys):
    lab.labvm.cmd_bmc_off(argparse.Namespace(name="bmc", host="hv-east"))
    capsys.readouterr()
    lab.labvm.cmd_status(argparse.Namespace(name="bmc"))
    out = capsys.readouterr().out
    assert "power service (Redfish BMCs" in out and "running" in out and "NOT running" not in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line and not line.startswith(" ")}
    assert rows["hv-east"][4:6] == [str(lab.ports["east"]), "OFF"]
    assert rows["hv-west"][4:6] == [str(lab.ports["west"]), "on"]
    assert rows["qw1"][4] == "-"


def test_the_witness_has_no_bmc_to_turn_off(lab):
    with pytest.raises(lab.labvm.LabError, match="the witness has no BMC"):
        lab.labvm.cmd_bmc_off(argparse.Namespace(name="bmc", host="qw1"))
