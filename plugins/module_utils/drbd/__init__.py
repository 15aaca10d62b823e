# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The DRBD resource of one protected VM: names, levels and errors (base), minor
and port allocation (allocation), the resource file for DRBD 8.4 and 9 (config), drbdadm dump-xml
parsing (parse), the drbdadm argument lists (commands), the backing LV size under the internal
metadata (size) and the dual-primary switch of a live migration (dual_primary).

The shared secret is only ever written into the rendered text; register it with
CommandRunner.add_secrets before running drbdadm (which prints it).
"""
