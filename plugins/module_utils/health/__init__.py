# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The live state of a pair host (pair_info): one reader per component (corosync, pacemaker,
mirror, vms, network, on the shared base), the facts and findings they make (facts), and the one
report per pair from every host's findings (report).
"""
