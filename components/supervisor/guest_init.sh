#!/bin/busybox sh
# /init of the Stratus demo guest (a busybox initramfs): it reports on the serial
# console what the cloud gave it (its disks' first bytes, the addresses DHCP hands
# its NICs and the server that handed them), then idles until the ACPI power button
# asks it to power off. Its kernel command line (the image's os_command_line) may
# also ask it to:
#   stratus.mark=DEV:TEXT      write TEXT and a newline at the start of /dev/DEV
#                              before the disks are read ("marked DEV")
#   stratus.ping=ADDR[,ADDR]   after DHCP, ping each address until it answers, for
#                              up to stratus.ping_seconds (90) each ("ping ADDR ok|failed"),
#                              then once with a 1500-byte packet, which crosses the
#                              network only if the NIC's MTU is the network's
#                              ("ping ADDR 1500 bytes ok|failed")
# After DHCP it reads the config drive (an ISO 9660 volume labelled config-2, in
# OpenStack's layout) when there is one, as cloud-init would: the hostname and
# root's SSH keys from openstack/latest/meta_data.json, then user_data, run when
# it starts with "#!" ("config drive HOST", "user-data exit N"); then it starts
# Dropbear on port 22, keys only ("ssh ready"). Without one: "no config drive".
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
    udhcpc -i "$name" -q -n -t 20 -T 1 -O mtu -s /etc/udhcpc.sh >/dev/null 2>&1 \
        || say "nic $name got no DHCP lease"
done

# JSON (read on stdin) as one "PATH<tab>VALUE" line per string, number or literal,
# PATH naming object members and array indexes from the top with "/" (e.g.
# "hostname", "public_keys/mykey"), whatever the layout: busybox has no JSON tool.
# Escapes are decoded; a newline in a value becomes a space.
json_values() {
    grep -oE '"([^"\\]|\\.)*"|[][{}:,]|[^][{}:,[:space:]"]+' | awk '
        function here(   seg) {
            if (depth == 0) return ""
            seg = kind[depth] == "{" ? key[depth] : index_[depth]
            return prefix[depth] == "" ? seg : prefix[depth] "/" seg
        }
        function utf8(code) {
            if (code < 128) return sprintf("%c", code)
            if (code < 2048) return sprintf("%c%c", 192 + int(code / 64), 128 + code % 64)
            return sprintf("%c%c%c", 224 + int(code / 4096), 128 + int(code / 64) % 64, 128 + code % 64)
        }
        function unquote(s,   out, i, c, code, j) {
            s = substr(s, 2, length(s) - 2)
            out = ""
            for (i = 1; i <= length(s); i++) {
                c = substr(s, i, 1)
                if (c != "\\") { out = out c; continue }
                c = substr(s, ++i, 1)
                if (c == "n" || c == "r" || c == "t") out = out " "
                else if (c == "b" || c == "f") continue
                else if (c == "u") {
                    code = 0
                    for (j = 1; j <= 4; j++)
                        code = code * 16 + index("0123456789abcdef", tolower(substr(s, i + j, 1))) - 1
                    i += 4
                    out = out utf8(code)
                } else out = out c
            }
            return out
        }
        $0 == "{" || $0 == "[" {
            path = here(); depth++
            kind[depth] = $0; prefix[depth] = path; index_[depth] = 0; want_key = ($0 == "{")
            next
        }
        $0 == "}" || $0 == "]" { depth--; next }
        $0 == "," { if (kind[depth] == "{") want_key = 1; else index_[depth]++; next }
        $0 == ":" { want_key = 0; next }
        kind[depth] == "{" && want_key { key[depth] = unquote($0); next }
        /^"/ { print here() "\t" unquote($0); next }
        { print here() "\t" $0 }
    '
}
# The value at PATH of json_values' output (read on stdin), or "".
json_get() { awk -F '\t' -v path="$1" '$1 == path { sub(/^[^\t]*\t/, ""); print; exit }'; }

# The config drive: the disk or CD-ROM holding an ISO 9660 volume labelled
# config-2 (its primary volume descriptor, sector 16 of 2048 bytes: "CD001" at
# byte 1, the label at 40). Read directly: busybox's findfs probes every device
# node, an empty CD-ROM and the floppy drive included, for seconds.
config_drive=""
for disk in /sys/block/*; do
    name=${disk##*/}
    case "$name" in loop*|ram*) continue ;; esac
    [ "$(cat "$disk/size")" != 0 ] || continue
    descriptor=$(dd if="/dev/$name" bs=2048 skip=16 count=1 2>/dev/null | head -c 72 \
        | tr -c ' -~' '.')
    if [ "${descriptor:1:5}" = CD001 ] && [ "$(echo ${descriptor:40:32})" = config-2 ]; then
        config_drive=/dev/$name
        break
    fi
done
if [ -n "$config_drive" ] && mkdir -p /mnt/config \
    && mount -t iso9660 -o ro "$config_drive" /mnt/config 2>/dev/null; then
    latest=/mnt/config/openstack/latest
    json_values < "$latest/meta_data.json" > /tmp/meta_data
    name=$(json_get hostname < /tmp/meta_data | tr -cd 'A-Za-z0-9.-' | head -c 63)
    if [ -n "$name" ]; then
        hostname "$name"
        echo "$name" > /etc/hostname
    fi
    mkdir -p /root/.ssh
    chmod 700 /root /root/.ssh
    awk -F '\t' '$1 ~ /^public_keys\// { sub(/^[^\t]*\t/, ""); print }' /tmp/meta_data \
        > /root/.ssh/authorized_keys
    chmod 600 /root/.ssh/authorized_keys
    say "config drive $(hostname)"
    if [ "$(head -c 2 "$latest/user_data" 2>/dev/null)" = "#!" ]; then
        cp "$latest/user_data" /tmp/user-data
        chmod 700 /tmp/user-data
        /tmp/user-data > /tmp/user-data.log 2>&1 < /dev/null
        say "user-data exit $?"
    fi
    umount /mnt/config

    mkdir -p /dev/pts /var/log /var/run
    mount -t devpts devpts /dev/pts
    [ -e /etc/dropbear/dropbear_ed25519_host_key ] \
        || /usr/bin/dropbearkey -t ed25519 -f /etc/dropbear/dropbear_ed25519_host_key \
            > /dev/null 2>&1
    # -s: keys only, no passwords; -E: its log to stderr (kept in /var/log).
    /usr/sbin/dropbear -s -E -p 22 -r /etc/dropbear/dropbear_ed25519_host_key \
        2> /var/log/dropbear.log
    # Ready once port 22 (0016) listens: Dropbear binds after it forks.
    result="ssh failed"
    for _ in $(seq 50); do
        if grep -q ':0016 0*:0000 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
            result="ssh ready"
            break
        fi
        sleep 0.1
    done
    say "$result"
else
    say "no config drive"
fi

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
    if [ "$result" = ok ]; then
        # 1472 bytes of data: a 1500-byte IPv4 packet, which the guest fragments
        # to its NIC's MTU; more than the network's MTU in one frame is dropped.
        full=failed
        ping -c 2 -W 2 -s 1472 "$address" >/dev/null 2>&1 && full=ok
        say "ping $address 1500 bytes $full"
    fi
done

say "ready"
while :; do sleep 3600; done
