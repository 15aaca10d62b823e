#!/bin/sh
# duplex.vmpair VM lab: what a Debian 13 (trixie) image needs after inside.sh, in its chroot
# (`lab.py vm image` runs it under `unshare --mount` with /proc mounted; the bookworm image has none
# of these units enabled).
set -eu
# openssh 10's sshd-keygen.service runs `ssh-keygen -A` at first boot, and every VM's first boot is
# one (empty machine-id): an RSA key too, seconds under TCG. vmpair-lab-hostkey.service makes the
# one key sshd is told to use (sshd_config.d/vmpair-lab-hostkey.conf).
systemctl mask sshd-keygen.service
# multipath-tools comes with fence-agents-all (fence_mpath) and enables multipathd in sysinit:
# useless in a lab guest and slow under emulation.
systemctl mask multipathd.service multipathd.socket
# libvirt 11 enables virtlogd.service itself (multi-user.target); as on bookworm it starts when the
# hypervisor role starts libvirt, not at boot.
systemctl disable virtlogd.service
systemctl list-unit-files --state=enabled --no-pager --no-legend | sed 's/^/enabled (trixie): /'
