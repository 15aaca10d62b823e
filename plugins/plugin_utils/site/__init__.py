# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The site model, on the controller only (it needs netaddr): the whole model (model), its
checks by job (links, addresses, latency, vms, quorum, variables, firewall) and its reports
(report). Used by the site_model action (check_site). Its names and checker are shared with the
modules in plugins/module_utils/site/.
"""
