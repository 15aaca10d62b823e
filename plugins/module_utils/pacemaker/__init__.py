# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pacemaker through pcs: CIB readers and the CIB transaction (cib), cluster properties
(properties), fence devices (fencing), fencing levels and the watchdog device (topology), and the
resources and constraints of protected VMs (vm_objects, vm_edits, vm_present, vm_remove).
"""
