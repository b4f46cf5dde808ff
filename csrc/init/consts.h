/* consts.h: the kernel's numbers the init stage uses, by name.
 *
 * Most come from the Linux UAPI headers (included here, so that every part sees the same set);
 * the few that only a C library's headers name (glibc's sys/mount.h, sys/socket.h, ...) are
 * defined below, with the header they are normally found in.  No part of the init stage writes a
 * bare number for an errno, a flag, a magic or an ioctl.
 */
#ifndef OCIRUN_INIT_CONSTS_H
#define OCIRUN_INIT_CONSTS_H

#include <asm/ioctls.h>   /* TIOCSPTLCK, TIOCGPTPEER, TIOCSWINSZ, TIOCSCTTY, TCGETS, TCSETS */
#include <asm/poll.h>     /* POLLIN */
#include <asm/signal.h>   /* SIGCHLD, SIGKILL, SIG_SETMASK */
#include <asm/statfs.h>
#include <asm/termbits.h> /* struct termios, ONLCR */
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/filter.h>
#include <linux/keyctl.h> /* KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_SETPERM */
#include <linux/magic.h>  /* PROC_SUPER_MAGIC */
#include <linux/major.h>  /* MEM_MAJOR, UNIX98_PTY_SLAVE_MAJOR, UNIX98_PTY_MAJOR_COUNT */
#include <linux/mman.h>   /* PROT_*, MAP_*, MREMAP_MAYMOVE */
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/prctl.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/sockios.h> /* SIOCGIFFLAGS, SIOCSIFFLAGS */
#include <linux/stat.h>
#include <linux/time.h>    /* CLOCK_MONOTONIC */

/* unistd.h */
#define SEEK_END 2

/* sys/mount.h: umount2() flags */
#define MNT_DETACH 0x2
#define UMOUNT_NOFOLLOW 0x8

/* sys/statvfs.h: the f_flags of statfs() (the kernel's ST_* mount flags) */
#define ST_NOSUID 0x2
#define ST_NODEV 0x4
#define ST_NOEXEC 0x8
#define ST_NOATIME 0x400
#define ST_NODIRATIME 0x800
#define ST_RELATIME 0x1000

/* sys/socket.h, net/if.h */
#define AF_INET 2
#define SOCK_DGRAM 2
#define SOL_SOCKET 1
#define SCM_RIGHTS 1
#define MSG_NOSIGNAL 0x4000
#define MSG_CMSG_CLOEXEC 0x40000000
#define CMSG_HDR_LEN 16              /* sizeof(struct cmsghdr) on a 64-bit kernel */
#define CMSG_LEN_FD (CMSG_HDR_LEN + 4) /* CMSG_LEN(sizeof(int)) */
#define IFF_UP 0x1

/* linux/ioprio.h (UAPI only since 6.0) */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13

/* linux/sched/types.h: the size of struct sched_attr with util_min and util_max */
#define SCHED_ATTR_SIZE_VER1 56
#define SCHED_CAPACITY_SCALE 1024    /* util_max: no clamp */

/* linux/key.h (kernel only): key permissions of KEYCTL_SETPERM */
#define KEY_POS_ALL 0x3f000000       /* the possessor: everything */
#define KEY_USR_VIEW 0x00010000
#define KEY_USR_READ 0x00020000
#define KEY_USR_SEARCH 0x00080000
#define KEY_USR_LINK 0x00100000

/* devices */
#define DEVNULL_MINOR 3              /* /dev/null is MEM_MAJOR:3 */

/* the init stage's own bounds */
#define ACK_MAX_FDS 64               /* the most `tasks` files an ACK of the parent carries */
#define COPY_CHUNK (1 << 20)         /* tmpcopyup: bytes per sendfile() */
#define COPY_MAX_DEPTH 64            /* tmpcopyup: directories deep */
#define MOUNTINFO_FIRST (1 << 16)    /* the first buffer for /proc/self/mountinfo (grows) */
#define CLOSE_SWEEP_END 65536        /* without close_range: fcntl() on every fd below this */
#define NSEC_PER_SEC 1000000000L

#endif
