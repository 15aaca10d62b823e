# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Protecting one VM on a pair host (protected_vm, protected_vm_info): the host reader
(reader), the plan (plan, with the storage plan in storage), its steps (apply), unprotecting
(unprotect), and the modules' host-side flow that joins them (host).
"""
