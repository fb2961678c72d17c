#!/bin/bash
# Escape suite, group "filesystem and process" (issue 7; list and reasons in
# tests/escape/README.md). Every attempt runs inside ONE sandbox on the embedded default
# policy, as the sandbox user, and must be refused with the exact result given beside
# it. None of these is logged: the kernel refuses them (Landlock, seccomp, DAC, mount
# flags, pid namespace) and agentcage sees nothing, by design (docs/seccomp.md).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../helpers/sandbox_lib.sh"

if [ "$(id -u)" != 0 ]; then skip "needs root (namespaces, mounts)"; done_testing; exit; fi
. "$(dirname "$0")/attempts.bash"

uid=$(id -u sandbox) gid=$(id -g sandbox)
sh_rc() { printf '%s; echo rc=$?' "$1"; }

# Host-side fixtures: another sandbox's persistent home (owned by the same sandbox uid,
# so only Landlock stands between them), a root-owned file inside the shared workdir.
other=/var/lib/agentcage/esc-other-$$
SB_EXTRA_CLEAN+=("$other")
mkdir -p "$other/home" && echo other-secret >"$other/home/secret" &&
	chown -R sandbox:sandbox "$other" && chmod 0700 "$other/home"
mkdir "$SB_WORK/sub" && chmod 0777 "$SB_WORK/sub"
echo root-file >"$SB_WORK/rootfile" && chmod 0644 "$SB_WORK/rootfile"
cgprocs=$(find /sys/fs/cgroup -maxdepth 2 -name cgroup.procs 2>/dev/null | sort | head -n 1)
: "${cgprocs:=/sys/fs/cgroup/cgroup.procs}"
blockdev=$(find /dev -maxdepth 1 -type b 2>/dev/null | sort | head -n 1)

# --- writes outside read_write ---
attempt fs.create_usr EROFS "create a file in /usr (read_only): EROFS (a read-only mount, Landlock behind it)" -- "$ESC" open /usr/esc-$$ creat
attempt fs.create_etc EROFS "create a file in /etc: EROFS (a read-only mount, Landlock behind it)" -- "$ESC" open /etc/esc-$$ creat
attempt fs.write_passwd EACCES "open /etc/passwd for writing: EACCES" -- "$ESC" open /etc/passwd w
attempt fs.create_root EROFS "create a file in / (the new root is mounted read-only): EROFS" -- "$ESC" open /esc-$$ creat
attempt fs.create_var_log EROFS "create a file in /var/log (read_only): EROFS" -- "$ESC" open /var/log/esc-$$ creat
attempt fs.create_var_tmp ENOENT "create a file in the host's world-writable /var/tmp: ENOENT (not in the policy, so not in the view)" -- "$ESC" open /var/tmp/esc-$$ creat
attempt fs.mkfifo_var_tmp ENOENT "mkfifo in the host's /var/tmp (a channel to the host): ENOENT (not in the view)" -- "$ESC" mkfifo /var/tmp/esc-fifo-$$
attempt fs.create_dev_shm EACCES "create a file in the host's /dev/shm (shared memory of the host): EACCES" -- "$ESC" open /dev/shm/esc-$$ creat
# --- truncate ---
attempt fs.otrunc_etc EROFS "open(O_TRUNC) of /etc/hostname: EROFS" -- "$ESC" open /etc/hostname trunc
attempt fs.truncate_etc EACCES "truncate(2) of /etc/hostname: EACCES" -- "$ESC" truncate /etc/hostname
attempt fs.truncate_usr EACCES "truncate(2) of /usr/bin/true: EACCES" -- "$ESC" truncate /usr/bin/true
# --- rename into read-only trees ---
attempt fs.rename_into_usr EXDEV "rename /tmp/f over /usr/bin/true: EXDEV (other mount), never replaced" -- bash -c ': >/tmp/f && "$0" rename /tmp/f /usr/bin/true' "$ESC"
attempt fs.rename_in_etc EROFS "rename /etc/hostname inside /etc: EROFS" -- "$ESC" rename /etc/hostname /etc/hostname.esc
attempt fs.rename_dir_workdir EPERM "rename the workdir (a root-owned mount point in the sticky /tmp): EPERM" -- "$ESC" rename "$SB_WORK" /tmp/esc-moved
# --- symlink and hard-link tricks ---
attempt fs.symlink_write_etc EROFS "write through /tmp/l -> /etc/esc (symlink in a writable dir): EROFS" -- bash -c '"$0" symlink /etc/esc-l /tmp/l >/dev/null; "$0" open /tmp/l make' "$ESC"
attempt fs.symlink_read_shadow EACCES "read /etc/shadow through a symlink in /tmp: EACCES" -- bash -c '"$0" symlink /etc/shadow /tmp/s >/dev/null; "$0" open /tmp/s r' "$ESC"
attempt fs.symlink_proc_root EACCES "write the host root through a symlink to /proc/1/root: EACCES" -- bash -c '"$0" symlink /proc/1/root /tmp/r >/dev/null; "$0" open /tmp/r/esc make' "$ESC"
attempt fs.hardlink_passwd EXDEV "hard link /etc/passwd into /tmp: EXDEV" -- "$ESC" link /etc/passwd /tmp/passwd
attempt fs.hardlink_setuid EXDEV "hard link setuid /usr/bin/passwd into the workdir: EXDEV" -- "$ESC" link /usr/bin/passwd "$SB_WORK/sub/passwd"
attempt fs.hardlink_root_file EPERM "hard link a root-owned file in the workdir (same fs): EPERM (protected_hardlinks)" -- "$ESC" link "$SB_WORK/rootfile" "$SB_WORK/sub/rootfile"
# --- other sandboxes, devices, /proc and /sys ---
attempt fs.other_sandbox_home ENOENT "read another sandbox's home under /var/lib/agentcage (same uid): ENOENT (not in the view)" -- "$ESC" open "$other/home/secret" r
attempt fs.list_state_dir ENOENT "list /var/lib/agentcage: ENOENT (not in the view)" -- "$ESC" open /var/lib/agentcage r
attempt fs.own_home_host_path ENOENT "open its own home by its host path /var/lib/agentcage/NAME/home: ENOENT (only /sandbox)" -- "$ESC" open "/var/lib/agentcage/$SB_NAME/home" r
if [ -n "$blockdev" ]; then
	attempt fs.raw_disk ENOENT "open the raw disk $blockdev: ENOENT (the sandbox's /dev has no disks)" -- "$ESC" open "$blockdev" r
else
	skip "fs.raw_disk: no block device in the host's /dev"
fi
attempt fs.dev_kmsg ENOENT "write /dev/kmsg (forge kernel log lines): ENOENT (not in the sandbox's /dev)" -- "$ESC" open /dev/kmsg w
attempt fs.mknod_blk EPERM "mknod a block device in /tmp: EPERM" -- "$ESC" sys mknod-blk
if [ -e /proc/sysrq-trigger ]; then
	attempt fs.sysrq EACCES "write /proc/sysrq-trigger: EACCES" -- "$ESC" open /proc/sysrq-trigger w
else
	attempt fs.sysrq ENOENT "write /proc/sysrq-trigger: ENOENT (this kernel has no sysrq)" -- "$ESC" open /proc/sysrq-trigger w
fi
attempt fs.proc_sys_kernel EACCES "write /proc/sys/kernel/core_pattern: EACCES" -- "$ESC" open /proc/sys/kernel/core_pattern w
attempt fs.proc_sys_net EACCES "write /proc/sys/net/ipv4/ping_group_range (its own netns): EACCES" -- "$ESC" open /proc/sys/net/ipv4/ping_group_range w
attempt fs.proc_self_write EACCES "write /proc/self/oom_score_adj (/proc is read_only): EACCES" -- "$ESC" open /proc/self/oom_score_adj w
attempt fs.sys_cgroup ENOENT "write $cgprocs (move into the host's cgroup): ENOENT (no /sys)" -- "$ESC" open "$cgprocs" w
attempt fs.sys_read ENOENT "read /sys (not in the policy): ENOENT (not in the view)" -- "$ESC" open /sys/kernel r
# --- ownership and setuid ---
attempt fs.chown_root EPERM "chown an own file to root: EPERM" -- bash -c ': >/tmp/own && "$0" chown /tmp/own 0' "$ESC"
attempt fs.setuid_own "$uid $uid $gid $gid" "chmod 4755 an own copy and run it: same ids (nosuid, and it is not root's)" -- bash -c 'cp "$0" /tmp/suid && "$0" chmod /tmp/suid 4755 >/dev/null && /tmp/suid ids' "$ESC"
attempt fs.setgid_root_group EPERM "chgrp an own file to root's group: EPERM" -- bash -c ': >/tmp/g && chgrp root /tmp/g 2>/dev/null || echo EPERM'
attempt proc.passwd rc=1 "setuid /usr/bin/passwd -d sandbox: refused (nosuid mounts, no_new_privs)" -- sh -c "$(sh_rc '/usr/bin/passwd -d sandbox')"
attempt proc.su rc=1 "su root -c id: refused" -- sh -c "$(sh_rc 'su root -c id')"
attempt_re proc.mount_bin "rc=[1-9][0-9]*" "setuid /usr/bin/mount of a tmpfs: refused" -- sh -c "$(sh_rc '/usr/bin/mount -t tmpfs none /tmp')"
attempt proc.newgrp rc=1 "setuid newgrp root: refused" -- sh -c "$(sh_rc 'newgrp root </dev/null')"
attempt proc.setuid0 EPERM "setresuid(0,0,0): EPERM" -- "$ESC" sys setuid0
# --- namespaces and mounts ---
attempt proc.unshare_U_cmd rc=1 "unshare -U true: refused" -- sh -c "$(sh_rc 'unshare -U true')"
attempt proc.unshare_user EPERM "unshare(CLONE_NEWUSER): EPERM" -- "$ESC" sys unshare 0x10000000
attempt proc.unshare_net EPERM "unshare(CLONE_NEWNET): EPERM" -- "$ESC" sys unshare 0x40000000
attempt proc.unshare_mnt EPERM "unshare(CLONE_NEWNS): EPERM" -- "$ESC" sys unshare 0x20000
attempt proc.clone_newuser EPERM "clone(CLONE_NEWUSER): EPERM" -- "$ESC" sys clone-newuser
attempt proc.clone3 ENOSYS "clone3(CLONE_NEWUSER): ENOSYS (flags hidden from BPF, so refused whole)" -- "$ESC" sys clone3
attempt proc.setns EPERM "setns into a network namespace: EPERM" -- "$ESC" sys setns-net
attempt proc.mount EPERM "mount(2) a tmpfs: EPERM" -- "$ESC" sys mount
attempt proc.umount EPERM "umount2 /tmp (uncover the host's /tmp): EPERM" -- "$ESC" sys umount
attempt proc.fsopen EPERM "fsopen (new mount API): EPERM" -- "$ESC" sys fsopen
attempt proc.open_tree EPERM "open_tree(OPEN_TREE_CLONE): EPERM" -- "$ESC" sys open_tree
attempt proc.chroot EPERM "chroot: EPERM" -- "$ESC" sys chroot
attempt proc.pivot_root EPERM "pivot_root: EPERM" -- "$ESC" sys pivot_root
# --- kernel attack surface ---
attempt proc.keyctl EPERM "keyctl (the keyring is not namespaced): EPERM" -- "$ESC" sys keyctl
attempt proc.add_key EPERM "add_key: EPERM" -- "$ESC" sys add_key
attempt proc.io_uring EPERM "io_uring_setup: EPERM" -- "$ESC" sys io_uring_setup
attempt proc.bpf EPERM "bpf(BPF_MAP_CREATE): EPERM" -- "$ESC" sys bpf
attempt proc.perf EPERM "perf_event_open: EPERM" -- "$ESC" sys perf_event_open
attempt proc.userfaultfd EPERM "userfaultfd: EPERM" -- "$ESC" sys userfaultfd
attempt proc.personality_rie EPERM "personality(READ_IMPLIES_EXEC): EPERM" -- "$ESC" sys personality 0x400000
attempt proc.personality_norand EPERM "personality(ADDR_NO_RANDOMIZE): EPERM" -- "$ESC" sys personality 0x40000
attempt proc.setarch_R rc=1 "setarch -R (no ASLR): refused" -- sh -c "$(sh_rc 'setarch x86_64 -R true')"
attempt proc.seccomp_filter EPERM "seccomp(SET_MODE_FILTER), e.g. a user-notify broker: EPERM" -- "$ESC" sys seccomp-filter
attempt proc.prctl_seccomp EPERM "prctl(PR_SET_SECCOMP): EPERM" -- "$ESC" sys prctl-seccomp
attempt proc.tiocsti EPERM "ioctl(TIOCSTI) into the terminal: EPERM" -- "$ESC" sys tiocsti
attempt proc.open_by_handle EPERM "open_by_handle_at (shocker): EPERM" -- "$ESC" sys open_by_handle_at
attempt proc.syslog EPERM "syslog(READ_ALL), the kernel log: EPERM" -- "$ESC" sys syslog
attempt proc.rlimit_core EPERM "raise RLIMIT_CORE (core dumps): EPERM" -- "$ESC" sys rlimit-core
attempt proc.x32 SYS "an x32 syscall (dodging the x86_64 table): killed by SIGSYS" -- "$ESC" x32
# --- other processes: the sandbox's init, the supervisor and the host ---
attempt proc.ptrace_traceme EPERM "ptrace(TRACEME): EPERM" -- "$ESC" sys ptrace-traceme
attempt proc.ptrace_init EPERM "ptrace(ATTACH) to init (pid 1): EPERM" -- "$ESC" sys ptrace-attach 1
attempt proc.vm_readv_init EPERM "process_vm_readv of init: EPERM" -- "$ESC" sys process_vm_readv 1
attempt proc.pidfd_open EPERM "pidfd_open(1): EPERM" -- "$ESC" sys pidfd_open 1
attempt proc.kill_init EPERM "kill(1, SIGTERM) to the sandbox's init: EPERM" -- "$ESC" sys kill 1
attempt proc.kill_host ESRCH "kill the host's test shell (pid $$) by its host pid: ESRCH (pid namespace)" -- "$ESC" sys kill $$
attempt proc.host_proc_root ENOENT "open /proc/$$/root (a host process, ancestor of the supervisor): ENOENT" -- "$ESC" open /proc/$$/root/etc/hostname r
attempt proc.init_root EACCES "open /proc/1/root/ (init, root-owned, not dumpable): EACCES" -- "$ESC" open /proc/1/root/etc/hostname r
attempt proc.init_environ EACCES "read /proc/1/environ (init carries the supervisor's environment): EACCES" -- "$ESC" open /proc/1/environ r
attempt proc.init_mem EACCES "read /proc/1/mem (the supervisor's memory image, copied into init): EACCES" -- "$ESC" open /proc/1/mem r
attempt proc.init_fd EACCES "list /proc/1/fd (init's descriptors): EACCES" -- "$ESC" open /proc/1/fd r
# --- the CA private key (issue 5) ---
attempt ca.run_dir ok "open /run/agentcage: readable (the CA certificate and the bundle, no key; see ca.key_search)" -- "$ESC" open /run/agentcage r
attempt ca.scan none "search every readable /proc/PID/environ and /proc/PID/mem for a PEM private key: none" -- "$ESC" scan-secret

esc_run sb_run
esc_check
check_fails "nothing was written into the host's /var/tmp, /dev/shm, /usr or /etc" \
	test -e /var/tmp/esc-$$ -o -e /dev/shm/esc-$$ -o -e /usr/esc-$$ -o -e /etc/esc-$$ -o -e /var/tmp/esc-fifo-$$
check "/usr/bin/true was not replaced (still a non-empty file that runs)" test -s /usr/bin/true -a -x /usr/bin/true
done_testing
