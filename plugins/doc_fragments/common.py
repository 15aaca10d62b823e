# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Attribute descriptions shared by every module. Each module states its
    # own support level under its DOCUMENTATION's attributes.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description:
      - Can run in check mode and return the changed status prediction without modifying the target.
  diff_mode:
    description:
      - Returns details on what has changed (or would change in check mode) when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second run reports no change.
      - This assumes that the system controlled by the module has not changed in a relevant way in between.
"""

    # Check mode, diff mode and idempotency are all fully supported.
    # Use together with the standard fragment: duplex.vmpair.common and duplex.vmpair.common.full_support
    FULL_SUPPORT = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
"""

    # The cib_file option of modules that change the cluster through pcs.
    CIB_FILE = r"""
options:
  cib_file:
    description:
      - Work on this offline CIB file instead of the live cluster.
      - The Pacemaker tools get it as the E(CIB_file) environment variable, pcs as C(pcs -f).
      - Useful to prepare a configuration before pushing it, and for tests.
    type: path
"""
