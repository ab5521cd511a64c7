#!/bin/busybox sh
# /init of the Stratus demo guest (a busybox initramfs): it reports on the serial
# console what the cloud gave it (its disks' first bytes, the addresses DHCP hands
# its NICs), then idles until the ACPI power button asks it to power off.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /run /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "STRATUS-GUEST: $*"; }
say "booted, kernel $(uname -r)"

for module in $(cat /etc/modules); do
    insmod "/lib/modules/$module.ko" || say "module $module did not load"
done
# The power button (stop, soft reboot) is heard from here on.
acpid -c /etc/acpi -l /dev/null

# The virtio devices appear asynchronously once their drivers are loaded.
for _ in $(seq 50); do
    [ -e /sys/block/vda ] && [ -n "$(ls /sys/class/net | grep -v '^lo$')" ] && break
    sleep 0.1
done
for disk in /sys/block/vd*; do
    [ -e "$disk" ] || continue
    name=${disk##*/}
    say "disk $name $(head -c 48 "/dev/$name" | head -n 1 | tr -d '\n' | tr -c ' -~' '.')"
done

ip link set lo up
for nic in /sys/class/net/*; do
    name=${nic##*/}
    [ "$name" = lo ] && continue
    say "nic $name $(cat "$nic/address")"
    ip link set "$name" up
    udhcpc -i "$name" -q -n -t 20 -T 1 -s /etc/udhcpc.sh >/dev/null 2>&1 \
        || say "nic $name got no DHCP lease"
done

say "ready"
while :; do sleep 3600; done
