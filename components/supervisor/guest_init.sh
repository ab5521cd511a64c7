#!/bin/busybox sh
# /init of the Stratus demo guest (a busybox initramfs): it reports on the serial
# console what the cloud gave it (its disks' first bytes, the addresses DHCP hands
# its NICs and the server that handed them), then idles until the ACPI power button
# asks it to power off. Its kernel command line (the image's os_command_line) may
# also ask it to:
#   stratus.mark=DEV:TEXT      write TEXT and a newline at the start of /dev/DEV
#                              before the disks are read ("marked DEV")
#   stratus.ping=ADDR[,ADDR]   after DHCP, ping each address until it answers, for
#                              up to stratus.ping_seconds (90) each ("ping ADDR ok|failed")
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /run /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "STRATUS-GUEST: $*"; }
# The value of NAME=VALUE on the kernel command line (the last one given), or "".
arg() {
    value=""
    for word in $(cat /proc/cmdline); do
        case "$word" in "$1="*) value=${word#*=} ;; esac
    done
    echo "$value"
}
uptime_seconds() { read -r up _ < /proc/uptime; echo "${up%%.*}"; }
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
mark=$(arg stratus.mark)
if [ -n "$mark" ]; then
    device=${mark%%:*}
    for _ in $(seq 50); do
        [ -b "/dev/$device" ] && break
        sleep 0.1
    done
    if printf '%s\n' "${mark#*:}" | dd of="/dev/$device" conv=notrunc 2>/dev/null; then
        sync
        say "marked $device"
    else
        say "mark $device failed"
    fi
fi
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

seconds=$(arg stratus.ping_seconds)
for address in $(arg stratus.ping | tr ',' ' '); do
    result=failed
    start=$(uptime_seconds)
    while :; do
        if ping -c 1 -W 1 "$address" >/dev/null 2>&1; then
            result=ok
            break
        fi
        [ $(($(uptime_seconds) - start)) -ge "${seconds:-90}" ] && break
        sleep 1
    done
    say "ping $address $result"
done

say "ready"
while :; do sleep 3600; done
