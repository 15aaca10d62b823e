# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The DRBD resource of one protected VM: numbers, file, parsing and commands.

Pure Python, nothing here touches a host. Four parts, one module each; this
module re-exports their public names, so callers import everything from here:

1. :mod:`.drbd_alloc`: :func:`allocate` gives every protected VM a resource
   with one TCP port and one DRBD volume (and minor) per disk, stable across
   runs and free of collisions with every resource already defined on either
   host.
2. :mod:`.drbd_config`: :func:`build_resource` + :func:`render_resource` write
   ``/etc/drbd.d/vm-<vm>.res`` in DRBD 8.4 or 9 syntax.
3. :mod:`.drbd_parse`: :func:`parse_dump_xml` reads ``drbdadm dump-xml``
   output (what the hosts already have) into plain data;
   :func:`resource_differences` compares it with what :func:`render_resource`
   would write.
4. :mod:`.drbd_cmd`: :class:`DrbdCommands` and :func:`host_plan` build the
   drbdadm argument lists a module runs on each host.

Names, versions, levels, the secret rules and the errors all parts share are
in :mod:`.drbd_base` (with the naming rules); :mod:`.drbd_size` sizes the
backing LV of a disk under DRBD's internal metadata.

The shared secret is only ever written into the rendered text. It never
appears in an exception, a ``repr`` or a parse result (that keeps a salted
digest to tell whether it changed). drbdadm itself prints it (``drbdadm -d up``
shows ``--shared-secret=...`` and a failing drbdsetup call is echoed with its
arguments): register it with :meth:`.runner.CommandRunner.add_secrets` before
running drbdadm.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.duplex.vmpair.plugins.module_utils.drbd_alloc import (
    DEFAULT_BASE_MINOR,
    DEFAULT_BASE_PORT,
    DEFAULT_MAX_MINOR,
    DEFAULT_MAX_PORT,
    allocate,
    merge_existing,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd_base import (
    FT_REFUSED,
    LEVELS,
    LV_SUFFIX,
    RESOURCE_DIR,
    RESOURCE_PREFIX,
    SECRET_ALG,
    SECRET_MAX_LEN,
    VERSIONS,
    AllocationError,
    DrbdError,
    LevelError,
    ParseError,
    check_disk_name,
    check_secret,
    check_vm_name,
    device_path,
    disk_of_lv,
    level_settings,
    lv_name,
    lv_path,
    normalize_version,
    resource_name,
    resource_path,
    secret_digest,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd_cmd import DrbdCommands, has_metadata, host_plan
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd_config import (
    PING_INT_RANGE,
    PING_TIMEOUT_RANGE,
    ResourceSpec,
    build_resource,
    render_resource,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd_parse import parse_dump_xml, resource_differences
from ansible_collections.duplex.vmpair.plugins.module_utils.drbd_size import (
    backing_bytes,
    internal_md_bytes,
    usable_bytes,
)
from ansible_collections.duplex.vmpair.plugins.module_utils.runner import MASK

__all__ = [
    "DEFAULT_BASE_MINOR",
    "DEFAULT_BASE_PORT",
    "DEFAULT_MAX_MINOR",
    "DEFAULT_MAX_PORT",
    "FT_REFUSED",
    "LEVELS",
    "LV_SUFFIX",
    "MASK",
    "PING_INT_RANGE",
    "PING_TIMEOUT_RANGE",
    "RESOURCE_DIR",
    "RESOURCE_PREFIX",
    "SECRET_ALG",
    "SECRET_MAX_LEN",
    "VERSIONS",
    "AllocationError",
    "DrbdCommands",
    "DrbdError",
    "LevelError",
    "ParseError",
    "ResourceSpec",
    "allocate",
    "backing_bytes",
    "build_resource",
    "check_disk_name",
    "check_secret",
    "check_vm_name",
    "device_path",
    "disk_of_lv",
    "has_metadata",
    "internal_md_bytes",
    "host_plan",
    "level_settings",
    "lv_name",
    "lv_path",
    "merge_existing",
    "normalize_version",
    "parse_dump_xml",
    "render_resource",
    "resource_differences",
    "resource_name",
    "resource_path",
    "secret_digest",
    "usable_bytes",
]
