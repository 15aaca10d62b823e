#!/bin/sh
# duplex.vmpair VM lab: runs inside the image's chroot (see customize.sh).  $1: kernel .deb name.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
cd /tmp

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

# Archives of every package the collection's roles install, kept for offline real installs.
sed -e 's/#.*//' /tmp/lab-packages.txt | xargs apt-get install -y -q --download-only --no-install-recommends
echo "archives: $(find /var/cache/apt/archives -maxdepth 1 -name "*.deb" | wc -l)"

systemctl enable systemd-networkd.service vmpair-lab-net.service ssh.service
# Links without carrier (a cut cable) must not hold the boot for two minutes.
systemctl mask systemd-networkd-wait-online.service
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' > /etc/fstab
echo localhost > /etc/hostname
# One machine-id per VM: systemd creates it at first boot.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
rm -f /tmp/lab-inside.sh /tmp/lab-packages.txt "/tmp/$1"
