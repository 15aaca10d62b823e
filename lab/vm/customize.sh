#!/bin/sh
# duplex.vmpair VM lab: turn a debootstrap tree into the VM host image's root file system.
# Run by `lab.py vm image` on the lab machine inside `unshare --mount` (a private mount
# namespace: the /dev, /proc and /sys mounts below vanish with it, even on errors).
#   customize.sh ROOTFS KERNEL_DEB PACKAGES_TXT KEEP_DEBS_CONF PUBKEY VMDIR
set -eu
rootfs=$1 kernel_deb=$2 packages=$3 keep_debs=$4 pubkey=$5 vmdir=$6

cp "$kernel_deb" "$rootfs/tmp/"
cp "$packages" "$rootfs/tmp/lab-packages.txt"
cp "$vmdir/inside.sh" "$rootfs/tmp/lab-inside.sh"
cp "$keep_debs" "$rootfs/etc/apt/apt.conf.d/90lab-keep-debs"
install -m 0755 "$vmdir/vmpair-lab-net" "$rootfs/usr/local/sbin/vmpair-lab-net"
install -m 0644 "$vmdir/vmpair-lab-net.service" "$rootfs/etc/systemd/system/vmpair-lab-net.service"
install -m 0644 "$vmdir/vmpair-lab-hostkey.service" "$rootfs/etc/systemd/system/vmpair-lab-hostkey.service"
install -d -m 0700 "$rootfs/root/.ssh"
install -m 0600 "$pubkey" "$rootfs/root/.ssh/authorized_keys"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"

mount --bind /dev "$rootfs/dev"
mount -t proc proc "$rootfs/proc"
mount -t sysfs sysfs "$rootfs/sys"
chroot "$rootfs" /bin/sh /tmp/lab-inside.sh "$(basename "$kernel_deb")"
umount "$rootfs/sys" "$rootfs/proc" "$rootfs/dev"

# QEMU user networking's DNS forwarder; the lab machine's resolver is not reachable as such.
echo "nameserver 10.0.2.3" > "$rootfs/etc/resolv.conf"
