# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A redundant network path on a host (redundant_path): the files it writes (render), the live
links read with ip (live), bond and interface state from sysfs (sysfs), and the run that applies
them (apply).
"""
