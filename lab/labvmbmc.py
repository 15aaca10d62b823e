"""The VM lab's power switch: a small Redfish service, so that fencing uses the real agent.

Real servers are fenced through their BMC; many BMCs speak Redfish, and Debian's
fence-agents ships `fence_redfish` for them.  This service gives every lab VM a Redfish
ComputerSystem, so the pair hosts fence each other with the unmodified fence_redfish:

  GET  /redfish/v1                      service root (Systems link)
  GET  /redfish/v1/Systems              the lab's VMs
  GET  /redfish/v1/Systems/<host>       PowerState On/Off, the Reset action
  POST /redfish/v1/Systems/<host>/Actions/ComputerSystem.Reset  {"ResetType": ...}
       ForceOff: kill -9 QEMU (a pulled plug); On: boot the VM; ForceRestart /
       PowerCycle: both; GracefulShutdown: ACPI power button; Nmi: inject an NMI.

HTTPS (fence_redfish only speaks https; the certificate is self-signed, so the fence
device has ssl_insecure=1) with HTTP Basic authentication (user `lab`, a random password
in the lab's bmc.json), on 127.0.0.1:<34080 + 100 * index> of the lab machine.  The VMs
reach it as 10.0.2.2:<port>: QEMU user networking maps that address to the lab machine's
loopback.  `lab.py vm up` starts it (`lab.py vm bmc NAME` runs it in the foreground);
`vm down` stops it.  Every request is logged to bmc.log in the lab's state directory.
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
from labvmbmcctl import credentials, files

RESET_TYPES = ["On", "ForceOff", "GracefulShutdown", "ForceRestart", "PowerCycle", "Nmi"]


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "vmpair-lab-bmc/1.0"
    lab_name = None
    auth = None
    lock = threading.Lock()

    def log_message(self, fmt, *args):  # noqa: A002 - http.server's signature
        print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {self.client_address[0]} {fmt % args}", flush=True)

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
        if given.startswith("Basic ") and hmac.compare_digest(given[6:].encode(), self.auth.encode()):
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="vmpair-lab"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def _system(self, parts):
        """(lab, role) for /redfish/v1/Systems/<host>[/...], or None."""
        lab = labvm.load(self.lab_name)
        if len(parts) < 4 or parts[:3] != ["redfish", "v1", "Systems"]:
            return lab, None
        for role in lab["roles"]:
            if parts[3] == labvm.HOSTS[role][0]:
                return lab, role
        return lab, None

    def do_GET(self):  # noqa: N802 - http.server's naming
        if not self._authorized():
            return
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        lab, role = self._system(parts)
        if parts == ["redfish", "v1"]:
            self._send(200, {"@odata.id": "/redfish/v1", "Id": "RootService", "RedfishVersion": "1.6.0",
                             "Systems": {"@odata.id": "/redfish/v1/Systems"}})  # fmt: skip
        elif parts == ["redfish", "v1", "Systems"]:
            members = [{"@odata.id": f"/redfish/v1/Systems/{labvm.HOSTS[r][0]}"} for r in lab["roles"]]
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
                print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {reset} {parts[3]} failed: {exc}", flush=True)
                self._send(500, {"error": {"message": str(exc)}})
                return
        print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {time.time():.3f} {reset} {parts[3]} done", flush=True)
        self._send(204)


def serve(name):
    lab = labvm.load(name)
    creds = credentials(lab)
    Handler.lab_name = name
    Handler.auth = base64.b64encode(f"{creds['username']}:{creds['password']}".encode()).decode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", lab["plan"]["ports"]["bmc"]), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    paths = files(lab)
    context.load_cert_chain(paths["crt"], paths["key"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(
        f"{time.strftime('%Y-%m-%dT%H:%M:%S')} serving lab {name} on 127.0.0.1:{server.server_address[1]}", flush=True
    )
    server.serve_forever()
