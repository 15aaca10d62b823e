# Copyright (c) duplex.vmpair contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every part of the stack shares: the command runner and the ending of every module that runs
commands (runner), file reads and atomic writes (files), the findings format and the cluster
judgement (findings), and the collection's shared words: levels, hypervisors, supported Debian
releases, resource ids (vocabulary).
"""
