# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The part of the site model the modules share with the controller: its names, defaults,
limits and checker (base). The rest of the site model runs on the controller only, in
plugins/plugin_utils/site/.
"""
