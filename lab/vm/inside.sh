#!/bin/sh
# duplex.vmpair VM lab: runs inside the image's chroot (see customize.sh).  $1: kernel .deb name.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
cd /tmp

# Nothing may start in the chroot: without a running systemd, invoke-rc.d would run the
# packages' init scripts (libvirtd, pcsd, ...) on the lab machine.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d

# Any docker-clean style hook would delete the pre-downloaded archives.
rm -f /etc/apt/apt.conf.d/docker-clean
if grep -rlE 'Post-Invoke.*(rm|clean)|Dir::Cache::archives' /etc/apt/apt.conf.d/; then exit 1; fi
apt-get update -q

# virtio_pci, virtio_blk, virtio_net and ext4 are modules in Debian's kernel: the initrd must
# carry them. MODULES=list keeps it small (about 6 MB).
sed -i 's/^MODULES=.*/MODULES=list/' /etc/initramfs-tools/initramfs.conf
printf '%s\n' virtio_pci virtio_blk virtio_net ext4 >> /etc/initramfs-tools/modules
apt-get install -y -q --no-install-recommends "./$1"
test -e /boot/vmlinuz-* && test -e /boot/initrd.img-*

# Every package the collection's roles install, installed here at native speed: under TCG
# the same install takes minutes (fence-agents 6 min 48 s: boto3, google-api, ... byte-compiled).
# The roles' apt tasks find them installed; the container lab is where installs are tested.
sed -e 's/#.*//' /tmp/lab-packages.txt | xargs apt-get install -y -q --no-install-recommends
apt-get clean
rm -f /usr/sbin/policy-rc.d

# What the roles enable and start themselves must not run at boot: the packages' one-node
# example cluster (corosync.conf with cluster_name debian stays: the cluster role resets it),
# qdevice, qnetd and libvirt. pcsd: the roles drive pcs without it.
systemctl disable corosync.service pacemaker.service corosync-qdevice.service corosync-qnetd.service \
    pcsd.service pcsd-ruby.service libvirtd.service libvirt-guests.service \
    libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket \
    virtlogd.socket virtlogd-admin.socket virtlockd.socket virtlockd-admin.socket
# Useless in a lab guest and slow under emulation: periodic maintenance, e2scrub, LVM
# monitoring (dmeventd: snapshot/mirror/thin auto-extend, not used for DRBD backing LVs).
for unit in e2scrub_reap.service e2scrub_all.timer apt-daily.timer apt-daily-upgrade.timer \
    man-db.timer fstrim.timer logrotate.timer dpkg-db-backup.timer lvm2-monitor.service \
    systemd-pstore.service; do
    if [ -e "/lib/systemd/system/$unit" ]; then systemctl mask "$unit"; fi
done

# One CA per witness: qnetd's postinst made one here, and every VM boots this image.
# corosync-qnetd-certutil -i (the witness role) fills the directory again; the directory
# itself stays as the package leaves it (group coroqnetd): created by certutil it would be
# root:root 0770 and qnetd, running as coroqnetd, could not read it.
find /etc/corosync/qnetd/nssdb -mindepth 1 -delete
# One ssh host key per VM, made at first boot (vmpair-lab-hostkey.service; ed25519 only: an
# RSA key costs seconds under TCG).
rm -f /etc/ssh/ssh_host_*
printf 'HostKey /etc/ssh/ssh_host_ed25519_key\n' > /etc/ssh/sshd_config.d/vmpair-lab-hostkey.conf
systemctl enable systemd-networkd.service vmpair-lab-net.service vmpair-lab-hostkey.service ssh.service
# Links without carrier (a cut cable) must not hold the boot for two minutes.
systemctl mask systemd-networkd-wait-online.service
systemctl list-unit-files --state=enabled --no-pager --no-legend | sed 's/^/enabled: /'
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' > /etc/fstab
echo localhost > /etc/hostname
# One machine-id per VM: systemd creates it at first boot.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id /var/lib/systemd/random-seed
rm -f /tmp/lab-inside.sh /tmp/lab-packages.txt "/tmp/$1"
