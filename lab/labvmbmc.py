"""The VM lab's power switch: a small Redfish service, so that fencing uses the real agent.

Real servers are fenced through their BMC; many BMCs speak Redfish, and Debian's
fence-agents ships `fence_redfish` for them.  This service is each pair host's BMC, one port
per host (a real server's BMC has its own address): a port serves that host's Redfish
ComputerSystem only, so the pair hosts fence each other with the unmodified fence_redfish:

  GET  /redfish/v1                      service root (Systems link)
  GET  /redfish/v1/Systems              the port's host (any other system: 404)
  GET  /redfish/v1/Systems/<host>       PowerState On/Off, the Reset action
  POST /redfish/v1/Systems/<host>/Actions/ComputerSystem.Reset  {"ResetType": ...}
       ForceOff: kill -9 QEMU (a pulled plug); On: boot the VM; ForceRestart /
       PowerCycle: both; GracefulShutdown: ACPI power button; Nmi: inject an NMI.

HTTPS (fence_redfish only speaks https; the certificate is self-signed, so the fence
device has ssl_insecure=1) with HTTP Basic authentication (user `lab`, a random password
in the lab's bmc.json), on 127.0.0.1:<34080 + 100 * index + host number> of the lab machine
(hv-east 81, hv-west 82).  The VMs reach it as 10.0.2.2:<port>: QEMU user networking maps that
address to the lab machine's loopback.  `lab.py vm up` starts it (`lab.py vm bmc NAME` runs it in
the foreground); `vm down` stops it.  Every request is logged to bmc.log in the lab's state
directory.

`lab.py vm bmc-off NAME HOST` makes a host's BMC go dark, as when its whole site is lost: the
port still takes TCP connections (the kernel's backlog would anyway) but never answers on them
(no TLS handshake, no HTTP); each is logged as ignored and held until the client gives up or
`vm bmc-on` brings the BMC back (then it is closed).  The state is a file in the lab's directory
(<host>.bmc-off, read at every connection), so it outlives a restart of this service and `vm up`.
"""

import base64
import hmac
import http.server
import json
import signal
import ssl
import sys
import threading
import time

import labvm
from labcore import LabError
from labvmbmcctl import bmc_is_off, bmc_ports, credentials, files

RESET_TYPES = ["On", "ForceOff", "GracefulShutdown", "ForceRestart", "PowerCycle", "Nmi"]


# A TLS handshake that takes longer is dropped (the handshake runs in the connection's thread).
HANDSHAKE_TIMEOUT = 30
# How long a dark BMC holds a connection at most (fence_redfish gives up long before).
HOLD_MAX = 3600


def stamp():
    return time.strftime("%Y-%m-%dT%H:%M:%S")


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "vmpair-lab-bmc/1.0"
    timeout = 120  # a client that stops sending mid-request frees its thread
    lock = threading.Lock()

    def log_message(self, fmt, *args):  # noqa: A002 - http.server's signature
        print(f"{stamp()} {self.client_address[0]} {self.server.host} {fmt % args}", flush=True)

    def _send(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
            self.send_header("OData-Version", "4.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self):
        given = self.headers.get("Authorization", "")
        if given.startswith("Basic ") and hmac.compare_digest(given[6:].encode(), self.server.auth.encode()):
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="vmpair-lab"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def _system(self, parts):
        """(lab, role) for /redfish/v1/Systems/<this port's host>[/...], or (lab, None)."""
        lab = labvm.load(self.server.lab_name)
        if len(parts) < 4 or parts[:3] != ["redfish", "v1", "Systems"]:
            return lab, None
        return lab, (self.server.role if parts[3] == self.server.host else None)

    def do_GET(self):  # noqa: N802 - http.server's naming
        if not self._authorized():
            return
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        lab, role = self._system(parts)
        if parts == ["redfish", "v1"]:
            self._send(200, {"@odata.id": "/redfish/v1", "Id": "RootService", "RedfishVersion": "1.6.0",
                             "Systems": {"@odata.id": "/redfish/v1/Systems"}})  # fmt: skip
        elif parts == ["redfish", "v1", "Systems"]:
            members = [{"@odata.id": f"/redfish/v1/Systems/{self.server.host}"}]
            self._send(200, {"@odata.id": "/redfish/v1/Systems", "Members": members,
                             "Members@odata.count": len(members)})  # fmt: skip
        elif role and len(parts) == 4:
            uri = f"/redfish/v1/Systems/{parts[3]}"
            self._send(
                200,
                {
                    "@odata.id": uri,
                    "Id": parts[3],
                    "Name": f"{lab['name']}-{role}",
                    "PowerState": "On" if labvm.pid(lab, role) else "Off",
                    "Actions": {
                        "#ComputerSystem.Reset": {
                            "target": f"{uri}/Actions/ComputerSystem.Reset",
                            "ResetType@Redfish.AllowableValues": RESET_TYPES,
                        }
                    },
                },
            )
        else:
            self._send(404, {"error": {"message": f"no resource {self.path}"}})

    def do_POST(self):  # noqa: N802
        if not self._authorized():
            return
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        lab, role = self._system(parts)
        if not role or parts[4:] != ["Actions", "ComputerSystem.Reset"]:
            self._send(404, {"error": {"message": f"no action {self.path}"}})
            return
        try:
            length = int(self.headers.get("Content-Length", 0))
            reset = json.loads(self.rfile.read(length) or b"{}").get("ResetType")
        except ValueError:
            reset = None
        if reset not in RESET_TYPES:
            self._send(400, {"error": {"message": f"ResetType must be one of {RESET_TYPES}"}})
            return
        with self.lock:
            try:
                if reset in ("ForceOff", "ForceRestart", "PowerCycle"):
                    labvm.kill(lab, role)
                if reset in ("On", "ForceRestart", "PowerCycle"):
                    labvm.start(lab, role)
                if reset == "GracefulShutdown" and labvm.pid(lab, role):
                    labvm.monitor(lab, role, "system_powerdown")
                if reset == "Nmi" and labvm.pid(lab, role):
                    labvm.monitor(lab, role, "nmi")
            except LabError as exc:
                print(f"{stamp()} {reset} {parts[3]} failed: {exc}", flush=True)
                self._send(500, {"error": {"message": str(exc)}})
                return
        # "<iso time> <epoch> <ResetType> <host> done": labvmcrash reads these lines
        print(f"{stamp()} {time.time():.3f} {reset} {parts[3]} done", flush=True)
        self._send(204)


class BMC(http.server.ThreadingHTTPServer):
    """One pair host's BMC: its own port, TLS per connection, dark while the host's bmc-off file exists."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, lab, role, port, auth, context):
        self.lab_name, self.role, self.host = lab["name"], role, labvm.HOSTS[role][0]
        self.lab_ref = {"name": lab["name"]}  # all bmc_is_off needs
        self.auth, self.context = auth, context
        super().__init__(("127.0.0.1", port), Handler)

    def process_request_thread(self, request, client_address):
        if bmc_is_off(self.lab_ref, self.role):
            try:
                self.hold(request, client_address)
            finally:
                self.shutdown_request(request)
            return
        try:
            request.settimeout(HANDSHAKE_TIMEOUT)
            request = self.context.wrap_socket(request, server_side=True)
            request.settimeout(None)
        except OSError as exc:  # ssl.SSLError is an OSError
            print(f"{stamp()} {client_address[0]} {self.host} TLS handshake failed: {exc}", flush=True)
            self.shutdown_request(request)
            return
        super().process_request_thread(request, client_address)

    def hold(self, request, client_address):
        """A dark BMC: read and drop what the client sends, answer nothing, until it gives up."""
        print(
            f"{stamp()} {client_address[0]}:{client_address[1]} {self.host} ignored: its BMC is off (lab.py vm bmc-off)",
            flush=True,
        )
        request.settimeout(0.5)
        deadline = time.monotonic() + HOLD_MAX
        while time.monotonic() < deadline and bmc_is_off(self.lab_ref, self.role):
            try:
                if not request.recv(4096):
                    return  # the client gave up
            except TimeoutError:
                continue
            except OSError:
                return


def bmcs(name):
    """The lab's BMCs (bound, not serving yet): one per pair host, on the port its plan gives it."""
    lab = labvm.load(name)
    creds = credentials(lab)
    auth = base64.b64encode(f"{creds['username']}:{creds['password']}".encode()).decode()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    paths = files(lab)
    context.load_cert_chain(paths["crt"], paths["key"])
    return [BMC(lab, role, port, auth, context) for role, port in bmc_ports(lab).items()]


def serve(name):
    servers = bmcs(name)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    for server in servers:
        state = "off (dark)" if bmc_is_off({"name": name}, server.role) else "on"
        print(f"{stamp()} serving lab {name}: BMC of {server.host} on 127.0.0.1:{server.server_address[1]}, {state}",
              flush=True)  # fmt: skip
        threading.Thread(target=server.serve_forever, daemon=True).start()
    while True:
        time.sleep(3600)
