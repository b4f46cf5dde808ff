/*
 * probe: a tiny static program that reports a container's view of itself.
 *
 * It is copied into every integration-test rootfs as /bin/probe.  Each
 * subcommand prints one JSON object on one line on stdout, so the tests can
 * compare what the process sees from inside with what the runtime reported
 * from outside.  Build:  gcc -static -O2 -o probe probe.c
 *
 *   probe ids          uid/gid (real, effective, saved), groups, umask
 *   probe ns           inode of each entry of /proc/self/ns
 *   probe hostname     hostname and domainname
 *   probe mounts       /proc/self/mountinfo parsed, with propagation
 *   probe cwd          current directory
 *   probe env          environment
 *   probe fds          open fds and what they point to
 *   probe pid          pid, ppid, process group, session
 *   probe caps         the five capability sets, NoNewPrivs, Seccomp
 *   probe rlimits      soft/hard limits (all 16 RLIMIT_* types)
 *   probe cgroup       /proc/self/cgroup lines
 *   probe net          network interfaces and whether they are up
 *   probe tty          isatty() of fds 0, 1, 2
 *   probe stat PATH..  lstat() of each path (type, mode, owner, rdev, target)
 *   probe all          everything above except stat in one object
 *   probe sleep N      sleep N seconds (fractions allowed), then exit 0
 *   probe exit N       exit with status N
 *   probe signals      print "ready", wait for the first signal,
 *                      print {"signal": N}, exit 128+N
 *   probe signals-state  SigIgn, SigBlk, SigCgt of /proc/self/status (hex masks) and the
 *                      numbers of the ignored and the blocked signals
 *   probe cat          copy stdin to stdout
 *   probe echo ARG..   print ARGs as a JSON list (args reached us intact)
 *   probe write PATH TEXT   write TEXT to PATH ({"ok":..,"errno":..})
 *   probe syscall NR [ARG..] [-- NR [ARG..]]..   raw syscall(2)s, numbers in C notation:
 *                      [{"nr":..,"ret":..,"errno":..}, ..] (a seccomp filter seen from inside)
 *   probe sched        sched_getattr(2): policy, nice, priority, flags; getpriority()
 *   probe ioprio       ioprio_get(2) of the process: class and level
 *   probe personality  personality(0xffffffff) and uname's machine
 *   probe nnp          PR_GET_NO_NEW_PRIVS and NoNewPrivs of /proc/self/status
 *   probe mempolicy    get_mempolicy(2): the mode, its flags (MPOL_F_*) and the first 64 nodes
 *   probe exe          readlink /proc/self/exe; can it be opened O_WRONLY / O_RDWR (never written)
 *   probe cwdinfo      getcwd() and whether "." lies under "/" (walking "..", by dev/inode)
 *   probe read PATH..  [{"path","ok","errno","opened","open_errno","size","data"}] (data: the
 *                      first 256 bytes; errno: of the open or else of the read)
 *   probe openw PATH.. [{"path","ok","errno"}] for open(O_WRONLY) (closed at once, never written)
 *   probe exe-attack PID SECONDS   CVE-2019-5736: hold /proc/PID/exe, print what that gave,
 *                      then keep trying to reopen it for writing and append a marker line;
 *                      a second line says whether that worked
 *   probe hunt SECONDS SECRET   print "ready", watch /proc for other processes for SECONDS and
 *                      try /proc/PID/exe, /proc/PID/root/SECRET, the fds in /proc/PID/fd, /proc/PID/environ
 *                      and opening /proc/PID/mem O_RDWR (never used) of each (stops early once
 *                      SECRET was read); at the end try to write (append to) the executables it held
 *
 * Unknown subcommands exit 2.  No dependencies beyond libc.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---------------------------------------------------------------- JSON out */

/* Nesting state: need_comma[depth] says whether the next value at that
 * depth needs a separating comma. */
static int depth;
static int need_comma[64];

static void sep(void)
{
	if (need_comma[depth])
		putchar(',');
	need_comma[depth] = 1;
}

static void put_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		default:
			if (*p < 0x20)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

/* A key: the value after it must not print a comma, so need_comma is reset
 * here and set again by the value's own sep(). */
static void key(const char *k)
{
	sep();
	put_str(k);
	putchar(':');
	need_comma[depth] = 0;
}

static void open_obj(void) { sep(); putchar('{'); depth++; need_comma[depth] = 0; }
static void close_obj(void) { putchar('}'); depth--; need_comma[depth] = 1; }
static void open_arr(void) { sep(); putchar('['); depth++; need_comma[depth] = 0; }
static void close_arr(void) { putchar(']'); depth--; need_comma[depth] = 1; }
static void v_str(const char *s) { sep(); if (s) put_str(s); else fputs("null", stdout); }
static void v_int(long long v) { sep(); printf("%lld", v); }
static void v_uint(unsigned long long v) { sep(); printf("%llu", v); }
static void v_bool(int b) { sep(); fputs(b ? "true" : "false", stdout); }
static void v_null(void) { sep(); fputs("null", stdout); }

static void kv_str(const char *k, const char *v) { key(k); v_str(v); }
static void kv_int(const char *k, long long v) { key(k); v_int(v); }
static void kv_uint(const char *k, unsigned long long v) { key(k); v_uint(v); }
static void kv_bool(const char *k, int v) { key(k); v_bool(v); }

static void end_line(void)
{
	putchar('\n');
	fflush(stdout);
}

/* ---------------------------------------------------------------- helpers */

static char *read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Value of "Name:\t..." in /proc/self/status, or NULL. Static buffer. */
static const char *status_field(const char *name)
{
	static char val[256];
	char *st = read_file("/proc/self/status");
	if (!st)
		return NULL;
	size_t nl = strlen(name);
	const char *found = NULL;
	for (char *line = strtok(st, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(val, sizeof val, "%s", v);
			found = val;
			break;
		}
	}
	free(st);
	return found;
}

/* Undo the octal escapes (\040 etc.) used in /proc/self/mountinfo. */
static void unescape(char *s)
{
	char *out = s;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* Emit a comma-separated string as a JSON list. */
static void v_csv(const char *csv)
{
	char *copy = strdup(csv), *save = NULL;
	open_arr();
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		v_str(t);
	close_arr();
	free(copy);
}

static const char *file_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFCHR: return "char";
	case S_IFBLK: return "block";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	}
	return "unknown";
}

/* ---------------------------------------------------------------- reports */

static void rep_ids(void)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	kv_int("uid", r);
	kv_int("euid", e);
	kv_int("suid", s);
	kv_int("gid", rg);
	kv_int("egid", eg);
	kv_int("sgid", sg);
	gid_t groups[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, groups);
	key("groups");
	open_arr();
	for (int i = 0; i < n; i++)
		v_int(groups[i]);
	close_arr();
	mode_t old = umask(0);
	umask(old);
	kv_int("umask", old);
}

static void rep_ns(void)
{
	DIR *d = opendir("/proc/self/ns");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof path, "/proc/self/ns/%s", de->d_name);
		key(de->d_name);
		if (stat(path, &st) == 0)
			v_uint(st.st_ino);
		else
			v_null();
	}
	closedir(d);
}

static void rep_hostname(void)
{
	struct utsname u;
	uname(&u);
	kv_str("hostname", u.nodename);
	kv_str("domainname", u.domainname);
}

static void rep_mounts(void)
{
	char *mi = read_file("/proc/self/mountinfo");
	open_arr();
	if (!mi) {
		close_arr();
		return;
	}
	char *save_line = NULL;
	for (char *line = strtok_r(mi, "\n", &save_line); line; line = strtok_r(NULL, "\n", &save_line)) {
		/* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
		char *f[64];
		int n = 0;
		char *save = NULL;
		for (char *t = strtok_r(line, " ", &save); t && n < 64; t = strtok_r(NULL, " ", &save))
			f[n++] = t;
		int dash = -1;
		for (int i = 6; i < n; i++)
			if (strcmp(f[i], "-") == 0) {
				dash = i;
				break;
			}
		if (n < 6 || dash < 0 || dash + 3 > n)
			continue;
		for (int i = 3; i < n; i++)
			unescape(f[i]);
		open_obj();
		kv_int("id", atoi(f[0]));
		kv_int("parent", atoi(f[1]));
		kv_str("dev", f[2]);
		kv_str("root", f[3]);
		kv_str("target", f[4]);
		key("options");
		v_csv(f[5]);
		/* propagation: private unless tagged shared:/master:/unbindable */
		int shared = 0, slave = 0, unbindable = 0;
		key("optional");
		open_arr();
		for (int i = 6; i < dash; i++) {
			v_str(f[i]);
			if (strncmp(f[i], "shared:", 7) == 0)
				shared = 1;
			else if (strncmp(f[i], "master:", 7) == 0)
				slave = 1;
			else if (strcmp(f[i], "unbindable") == 0)
				unbindable = 1;
		}
		close_arr();
		const char *prop = unbindable ? "unbindable"
				   : shared && slave ? "shared,slave"
				   : shared ? "shared"
				   : slave ? "slave"
				   : "private";
		kv_str("propagation", prop);
		kv_str("fstype", f[dash + 1]);
		kv_str("source", f[dash + 2]);
		key("super_options");
		v_csv(dash + 3 < n ? f[dash + 3] : "");
		close_obj();
	}
	close_arr();
	free(mi);
}

static void rep_cwd(void)
{
	char buf[PATH_MAX];
	kv_str("cwd", getcwd(buf, sizeof buf) ? buf : NULL);
}

static void rep_env(void)
{
	open_arr();
	for (char **e = environ; *e; e++)
		v_str(*e);
	close_arr();
}

static void rep_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	open_obj();
	if (d) {
		int self = dirfd(d);
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || atoi(de->d_name) == self)
				continue;
			char path[PATH_MAX], target[PATH_MAX];
			snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
			ssize_t n = readlink(path, target, sizeof target - 1);
			key(de->d_name);
			if (n < 0) {
				v_null();
			} else {
				target[n] = '\0';
				v_str(target);
			}
		}
		closedir(d);
	}
	close_obj();
}

static void rep_pid(void)
{
	kv_int("pid", getpid());
	kv_int("ppid", getppid());
	kv_int("pgid", getpgrp());
	kv_int("sid", getsid(0));
}

static void rep_caps(void)
{
	static const char *names[][2] = {
		{"CapInh", "inheritable"}, {"CapPrm", "permitted"}, {"CapEff", "effective"},
		{"CapBnd", "bounding"},    {"CapAmb", "ambient"},   {"NoNewPrivs", "no_new_privs"},
		{"Seccomp", "seccomp"},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		kv_str(names[i][1], status_field(names[i][0]));
}

/* The signal numbers set in a /proc/self/status mask (hex, bit N-1 for signal N) as a JSON list. */
static void signal_list(const char *hex)
{
	unsigned long long mask = hex ? strtoull(hex, NULL, 16) : 0;
	open_arr();
	for (int sig = 1; sig <= 64; sig++)
		if (mask & (1ULL << (sig - 1)))
			v_int(sig);
	close_arr();
}

static void rep_signals_state(void)
{
	char ign[32] = "", blk[32] = "";
	const char *v;
	if ((v = status_field("SigIgn")))
		snprintf(ign, sizeof ign, "%s", v);
	if ((v = status_field("SigBlk")))
		snprintf(blk, sizeof blk, "%s", v);
	kv_str("SigIgn", ign);
	kv_str("SigBlk", blk);
	kv_str("SigCgt", status_field("SigCgt"));
	key("ignored");
	signal_list(ign);
	key("blocked");
	signal_list(blk);
}

static void rep_rlimits(void)
{
	static const struct { int res; const char *name; } lim[] = {
		{RLIMIT_NOFILE, "RLIMIT_NOFILE"}, {RLIMIT_NPROC, "RLIMIT_NPROC"},
		{RLIMIT_CORE, "RLIMIT_CORE"},     {RLIMIT_STACK, "RLIMIT_STACK"},
		{RLIMIT_AS, "RLIMIT_AS"},         {RLIMIT_CPU, "RLIMIT_CPU"},
		{RLIMIT_FSIZE, "RLIMIT_FSIZE"},   {RLIMIT_DATA, "RLIMIT_DATA"},
		{RLIMIT_RSS, "RLIMIT_RSS"},       {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"},
		{RLIMIT_LOCKS, "RLIMIT_LOCKS"},   {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"},
		{RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"}, {RLIMIT_NICE, "RLIMIT_NICE"},
		{RLIMIT_RTPRIO, "RLIMIT_RTPRIO"}, {RLIMIT_RTTIME, "RLIMIT_RTTIME"},
	};
	for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
		struct rlimit rl;
		getrlimit(lim[i].res, &rl);
		key(lim[i].name);
		open_obj();
		key("soft");
		rl.rlim_cur == RLIM_INFINITY ? v_int(-1) : v_uint(rl.rlim_cur);
		key("hard");
		rl.rlim_max == RLIM_INFINITY ? v_int(-1) : v_uint(rl.rlim_max);
		close_obj();
	}
}

static void rep_cgroup(void)
{
	char *cg = read_file("/proc/self/cgroup");
	open_arr();
	if (cg) {
		for (char *line = strtok(cg, "\n"); line; line = strtok(NULL, "\n"))
			v_str(line);
		free(cg);
	}
	close_arr();
}

static void rep_net(void)
{
	struct if_nameindex *ifs = if_nameindex();
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	open_obj();
	for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
		struct ifreq req;
		memset(&req, 0, sizeof req);
		snprintf(req.ifr_name, sizeof req.ifr_name, "%s", i->if_name);
		key(i->if_name);
		open_obj();
		kv_int("index", i->if_index);
		if (sock >= 0 && ioctl(sock, SIOCGIFFLAGS, &req) == 0) {
			kv_bool("up", !!(req.ifr_flags & IFF_UP));
			kv_bool("loopback", !!(req.ifr_flags & IFF_LOOPBACK));
			kv_bool("running", !!(req.ifr_flags & IFF_RUNNING));
		}
		close_obj();
	}
	close_obj();
	if (ifs)
		if_freenameindex(ifs);
	if (sock >= 0)
		close(sock);
}

static void rep_tty(void)
{
	kv_bool("stdin", isatty(0));
	kv_bool("stdout", isatty(1));
	kv_bool("stderr", isatty(2));
}

static void rep_stat(const char *path)
{
	struct stat st;
	open_obj();
	kv_str("path", path);
	if (lstat(path, &st) != 0) {
		kv_bool("exists", 0);
		kv_int("errno", errno);
		close_obj();
		return;
	}
	kv_bool("exists", 1);
	kv_str("type", file_type(st.st_mode));
	kv_int("mode", st.st_mode & 07777);
	kv_int("uid", st.st_uid);
	kv_int("gid", st.st_gid);
	kv_int("size", st.st_size);
	kv_uint("ino", st.st_ino);
	kv_uint("dev", st.st_dev);
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		kv_int("major", major(st.st_rdev));
		kv_int("minor", minor(st.st_rdev));
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof target - 1);
		target[n < 0 ? 0 : n] = '\0';
		kv_str("target", target);
	}
	close_obj();
}

/* ---------------------------------------------------------------- commands */

#define SECTION(name, fn) do { key(name); open_obj(); fn(); close_obj(); } while (0)

static int cmd_all(void)
{
	open_obj();
	SECTION("ids", rep_ids);
	SECTION("ns", rep_ns);
	SECTION("hostname", rep_hostname);
	key("mounts");
	rep_mounts();
	SECTION("cwd", rep_cwd);
	key("env");
	rep_env();
	key("fds");
	rep_fds();
	SECTION("pid", rep_pid);
	SECTION("caps", rep_caps);
	SECTION("rlimits", rep_rlimits);
	key("cgroup");
	rep_cgroup();
	key("net");
	rep_net();
	SECTION("tty", rep_tty);
	close_obj();
	end_line();
	return 0;
}

/* Commands whose report is a JSON object built by one function. */
static const struct {
	const char *name;
	void (*fn)(void);
} object_cmds[] = {
	{"ids", rep_ids}, {"ns", rep_ns},   {"hostname", rep_hostname}, {"cwd", rep_cwd},
	{"pid", rep_pid}, {"caps", rep_caps}, {"rlimits", rep_rlimits}, {"tty", rep_tty},
	{"signals-state", rep_signals_state},
};

/* Commands whose report is a bare JSON value. */
static const struct {
	const char *name;
	void (*fn)(void);
} value_cmds[] = {
	{"mounts", rep_mounts}, {"env", rep_env}, {"fds", rep_fds}, {"cgroup", rep_cgroup}, {"net", rep_net},
};

static int cmd_signals(void)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	puts("ready");
	fflush(stdout);
	int sig;
	for (;;) {
		siginfo_t info;
		sig = sigwaitinfo(&all, &info);
		if (sig > 0)
			break;
		if (errno != EINTR)
			return 1;
	}
	open_obj();
	kv_int("signal", sig);
	close_obj();
	end_line();
	return 128 + sig;
}

static int cmd_sleep(const char *arg)
{
	double secs = arg ? atof(arg) : 3600;
	struct timespec ts = {(time_t)secs, (long)((secs - (time_t)secs) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return 0;
}

static int cmd_cat(void)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(0, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(1, buf + off, n - off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return 1;
			}
			off += w;
		}
	}
	return 0;
}

static int cmd_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int err = 0;
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	open_obj();
	kv_bool("ok", err == 0);
	kv_int("errno", err);
	close_obj();
	end_line();
	return err ? 1 : 0;
}

/* syscall(NR, ARGS...) for each "--"-separated group: what a seccomp filter made of it. */
static int cmd_syscall(int argc, char **argv)
{
	open_arr();
	int i = 0;
	while (i < argc) {
		long a[7] = {0};
		int n = 0;
		for (; i < argc && strcmp(argv[i], "--") != 0; i++)
			if (n < 7)
				a[n++] = (long)strtoull(argv[i], NULL, 0);
		i++; /* past "--" */
		if (n == 0)
			continue;
		errno = 0;
		long r = syscall(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
		int err = r < 0 ? errno : 0;
		open_obj();
		kv_int("nr", a[0]);
		kv_int("ret", r);
		kv_int("errno", err);
		close_obj();
	}
	close_arr();
	end_line();
	return 0;
}

/* ---------------------------------------------------------------- security probes */

/* One {"path", "ok", "errno"} object for an open(2) of `path` with `flags` (closed at once). */
static void rep_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	int err = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	open_obj();
	kv_str("path", path);
	kv_bool("ok", fd >= 0);
	kv_int("errno", err);
	close_obj();
}

/* read PATH..: [{"path", "ok", "errno", "opened", "open_errno", "size", "data"}] */
static void rep_read(const char *path)
{
	char buf[4096];
	size_t len = 0;
	int err = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int open_err = fd < 0 ? errno : 0;
	if (fd < 0) {
		err = errno;
	} else {
		for (;;) {
			ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				err = errno;
			if (n <= 0)
				break;
			len += (size_t)n;
			if (len == sizeof buf - 1)
				break;
		}
		close(fd);
	}
	buf[len] = '\0';
	if (len > 256)
		buf[256] = '\0';
	open_obj();
	kv_str("path", path);
	kv_bool("ok", fd >= 0 && err == 0);
	kv_int("errno", err);
	kv_bool("opened", fd >= 0);
	kv_int("open_errno", open_err);
	kv_int("size", (long long)len);
	kv_str("data", buf);
	close_obj();
}

/* sched: sched_getattr(2) of this process, and its nice value */
static void rep_sched(void)
{
	struct {
		unsigned size, policy;
		unsigned long long flags;
		int nice;
		unsigned priority;
		unsigned long long runtime, deadline, period;
		unsigned util_min, util_max;
	} attr;
	memset(&attr, 0, sizeof attr);
	long r = syscall(SYS_sched_getattr, 0, &attr, (unsigned)sizeof attr, 0);
	kv_int("errno", r < 0 ? errno : 0);
	kv_int("policy", attr.policy & ~0x40000000u /* SCHED_RESET_ON_FORK */);
	kv_bool("reset_on_fork", !!(attr.policy & 0x40000000u) || !!(attr.flags & 1));
	kv_int("nice", attr.nice);
	kv_int("priority", attr.priority);
	kv_uint("flags", attr.flags);
	kv_uint("runtime", attr.runtime);
	kv_uint("deadline", attr.deadline);
	kv_uint("period", attr.period);
	errno = 0;
	int prio = getpriority(PRIO_PROCESS, 0);
	kv_int("getpriority", errno ? 999 : prio);
}

/* ioprio: ioprio_get(IOPRIO_WHO_PROCESS, 0) as class and level */
static void rep_ioprio(void)
{
	long v = syscall(SYS_ioprio_get, 1, 0);
	kv_int("raw", v);
	kv_int("errno", v < 0 ? errno : 0);
	kv_int("class", v < 0 ? -1 : (v >> 13) & 7);
	kv_int("level", v < 0 ? -1 : v & 0x1fff);
}

/* personality: the persona (personality(0xffffffff)) and uname's machine */
static void rep_personality(void)
{
	struct utsname u;
	long p = syscall(SYS_personality, 0xffffffffUL);
	uname(&u);
	kv_int("personality", p);
	kv_int("domain", p < 0 ? -1 : p & 0xff);
	kv_str("machine", u.machine);
}

/* mempolicy: get_mempolicy(2) of the process: mode and flags are one int (linux/mempolicy.h:
 * MPOL_F_STATIC_NODES 1<<15, MPOL_F_RELATIVE_NODES 1<<14, MPOL_F_NUMA_BALANCING 1<<13) */
static void rep_mempolicy(void)
{
	int mode = -1;
	unsigned long nodes[1024 / (8 * sizeof(unsigned long))] = {0};
	long r = syscall(SYS_get_mempolicy, &mode, nodes, 1024UL, 0UL, 0UL);
	kv_int("errno", r < 0 ? errno : 0);
	kv_int("mode", r < 0 ? -1 : mode & 0xff);
	kv_int("flags", r < 0 ? -1 : mode & ~0xff);
	kv_uint("nodes", r < 0 ? 0 : nodes[0]);
}

/* nnp: prctl(PR_GET_NO_NEW_PRIVS) and the NoNewPrivs line of /proc/self/status */
static void rep_nnp(void)
{
	kv_int("prctl", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	kv_str("status", status_field("NoNewPrivs"));
}

/* exe: where /proc/self/exe leads, and whether it can be opened for writing (never written) */
static void rep_exe(void)
{
	char target[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", target, sizeof target - 1);
	target[n < 0 ? 0 : n] = '\0';
	kv_str("exe", n < 0 ? NULL : target);
	key("wronly");
	rep_open("/proc/self/exe", O_WRONLY);
	key("rdwr");
	rep_open("/proc/self/exe", O_RDWR);
}

/* cwdinfo: getcwd(), and whether "." lies under "/" (walking ".." up, by device and inode) */
static void rep_cwdinfo(void)
{
	char buf[PATH_MAX];
	struct stat root, cur, up;
	errno = 0;
	char *cwd = getcwd(buf, sizeof buf);
	kv_str("cwd", cwd);
	kv_int("errno", cwd ? 0 : errno);
	int inside = 0;
	if (stat("/", &root) == 0 && stat(".", &cur) == 0) {
		char rel[3 * 256 + 2] = ".";
		for (int i = 0; i < 256; i++) {
			if (cur.st_dev == root.st_dev && cur.st_ino == root.st_ino) {
				inside = 1;
				break;
			}
			strcat(rel, "/..");
			if (stat(rel, &up) != 0)
				break;
			if (up.st_dev == cur.st_dev && up.st_ino == cur.st_ino)
				break; /* the top of a tree that is not our root */
			cur = up;
		}
	}
	kv_bool("inside_root", inside);
}

/* end_line() for commands that print several lines: the next line starts a new value */
static void end_report_line(void)
{
	end_line();
	need_comma[0] = 0;
}

static int write_marker(int fd)
{
	static const char marker[] = "\n#ocirun-cve-test: written from inside a container\n";
	return write(fd, marker, sizeof marker - 1) == (ssize_t)(sizeof marker - 1) ? 0 : errno;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* exe-attack PID SECONDS: CVE-2019-5736 against a runtime process visible in the container.
 * Holds /proc/PID/exe (O_PATH), prints {"holding": ...}, then, until SECONDS pass, tries to
 * reopen what it holds for writing (possible once nothing executes it any more) and appends a
 * marker line; prints the outcome as a second line. */
static int cmd_exe_attack(const char *pid, const char *secs)
{
	char path[64], target[PATH_MAX], fdpath[64];
	snprintf(path, sizeof path, "/proc/%s/exe", pid);
	ssize_t n = readlink(path, target, sizeof target - 1);
	int link_err = n < 0 ? errno : 0;
	target[n < 0 ? 0 : n] = '\0';
	int fd = open(path, O_PATH | O_CLOEXEC);
	int path_err = fd < 0 ? errno : 0;
	int direct = open(path, O_WRONLY | O_CLOEXEC);
	int direct_err = direct < 0 ? errno : 0;
	if (direct >= 0)
		close(direct);
	open_obj();
	kv_str("exe", n < 0 ? NULL : target);
	kv_int("readlink_errno", link_err);
	kv_bool("held", fd >= 0);
	kv_int("open_path_errno", path_err);
	kv_bool("direct_wronly_ok", direct >= 0);
	kv_int("direct_wronly_errno", direct_err);
	close_obj();
	end_report_line();
	if (fd < 0)
		return 0;
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
	double end = now_s() + (secs ? atof(secs) : 5);
	int opened = 0, open_err = 0, write_err = -1, tries = 0;
	while (now_s() < end) {
		tries++;
		int w = open(fdpath, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (w >= 0) {
			opened = 1;
			write_err = write_marker(w);
			close(w);
			break;
		}
		open_err = errno;
		sleep_ms(5);
	}
	open_obj();
	kv_int("tries", tries);
	kv_bool("reopened_for_write", opened);
	kv_int("reopen_errno", opened ? 0 : open_err);
	kv_bool("wrote", opened && write_err == 0);
	kv_int("write_errno", write_err < 0 ? 0 : write_err);
	close_obj();
	end_report_line();
	return 0;
}

/* hunt SECONDS SECRET: watches /proc for other processes (runtime processes joining the
 * container) and tries what an attacker would: hold /proc/PID/exe, read SECRET through
 * /proc/PID/root, open the fds in /proc/PID/fd and /proc/PID/environ.  Prints "ready", then one line:
 * {"scans", "pids", "grabbed": [{"pid", "exe", "secret", "fds", "environ"}], "writes": [...]} */
static int cmd_hunt(const char *secs, const char *secret)
{
	enum { MAXP = 256 };
	struct {
		int pid, exe_fd;
		char exe[160];
		char secret[80];
		int fds, environ_ok, mem_rw;
	} got[MAXP];
	int ngot = 0, npids = 0, seen[4096], nseen = 0;
	long scans = 0;
	int self = getpid();
	puts("ready");
	fflush(stdout);
	double end = now_s() + (secs ? atof(secs) : 5);
	while (now_s() < end) {
		scans++;
		DIR *d = opendir("/proc");
		if (!d)
			break;
		struct dirent *de;
		while ((de = readdir(d))) {
			int pid = atoi(de->d_name);
			if (pid <= 1 || pid == self)
				continue;
			int known = 0;
			for (int i = 0; i < nseen; i++)
				if (seen[i] == pid)
					known = 1;
			char p[PATH_MAX], t[PATH_MAX];
			snprintf(p, sizeof p, "/proc/%d/exe", pid);
			ssize_t n = readlink(p, t, sizeof t - 1);
			if (!known && nseen < 4096) {
				seen[nseen++] = pid;
				npids++;
			}
			if (n < 0)
				continue; /* not ours to look at (non-dumpable), or gone */
			t[n] = '\0';
			if (strcmp(t, "/bin/busybox") == 0 || strcmp(t, "/bin/probe") == 0)
				continue;
			int already = 0;
			for (int i = 0; i < ngot; i++)
				if (got[i].pid == pid && strcmp(got[i].exe, t) == 0)
					already = 1;
			if (already || ngot >= MAXP)
				continue;
			int g = ngot++;
			got[g].pid = pid;
			t[sizeof got[g].exe - 1] = '\0';
			memcpy(got[g].exe, t, strlen(t) + 1);
			got[g].exe_fd = open(p, O_PATH | O_CLOEXEC);
			got[g].secret[0] = '\0';
			snprintf(p, sizeof p, "/proc/%d/root/%s", pid, secret ? secret : "nonexistent");
			int s = open(p, O_RDONLY | O_CLOEXEC);
			if (s >= 0) {
				ssize_t m = read(s, got[g].secret, sizeof got[g].secret - 1);
				got[g].secret[m < 0 ? 0 : m] = '\0';
				close(s);
			}
			got[g].fds = 0;
			snprintf(p, sizeof p, "/proc/%d/fd", pid);
			DIR *fdd = opendir(p);
			if (fdd) {
				struct dirent *fe;
				while ((fe = readdir(fdd)))
					if (fe->d_name[0] != '.') {
						char fp[PATH_MAX];
						snprintf(fp, sizeof fp, "/proc/%d/fd/%s", pid, fe->d_name);
						int f = open(fp, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
						if (f >= 0) {
							got[g].fds++;
							close(f);
						}
					}
				closedir(fdd);
			}
			snprintf(p, sizeof p, "/proc/%d/environ", pid);
			int e = open(p, O_RDONLY | O_CLOEXEC);
			got[g].environ_ok = e >= 0;
			if (e >= 0)
				close(e);
			/* opened only, never read or written: proof enough that its memory was reachable */
			snprintf(p, sizeof p, "/proc/%d/mem", pid);
			int m = open(p, O_RDWR | O_CLOEXEC);
			got[g].mem_rw = m >= 0;
			if (m >= 0)
				close(m);
			if (got[g].secret[0])
				end = 0; /* proven: report at once */
		}
		closedir(d);
	}
	open_obj();
	kv_int("scans", scans);
	kv_int("pids", npids);
	key("grabbed");
	open_arr();
	for (int i = 0; i < ngot; i++) {
		open_obj();
		kv_int("pid", got[i].pid);
		kv_str("exe", got[i].exe);
		kv_bool("exe_held", got[i].exe_fd >= 0);
		kv_str("secret", got[i].secret);
		kv_int("fds_opened", got[i].fds);
		kv_bool("environ", got[i].environ_ok);
		kv_bool("mem_rw", got[i].mem_rw);
		/* the executables held: can they be written now that the processes are gone? */
		int wrote = 0, err = 0;
		if (got[i].exe_fd >= 0) {
			char fp[64];
			snprintf(fp, sizeof fp, "/proc/self/fd/%d", got[i].exe_fd);
			int w = open(fp, O_WRONLY | O_APPEND | O_CLOEXEC);
			if (w < 0) {
				err = errno;
			} else {
				err = write_marker(w);
				wrote = err == 0;
				close(w);
			}
		}
		kv_bool("wrote", wrote);
		kv_int("write_errno", err);
		close_obj();
	}
	close_arr();
	close_obj();
	end_line();
	return 0;
}

/* Dispatch of the security probes; -1: not one of them. */
static int security_cmd(int argc, char **argv)
{
	const char *cmd = argv[1];
	const struct {
		const char *name;
		void (*fn)(void);
	} objs[] = {
		{"sched", rep_sched}, {"ioprio", rep_ioprio}, {"personality", rep_personality},
		{"nnp", rep_nnp},     {"exe", rep_exe},       {"cwdinfo", rep_cwdinfo},
		{"mempolicy", rep_mempolicy},
	};
	for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
		if (strcmp(cmd, objs[i].name) == 0) {
			open_obj();
			objs[i].fn();
			close_obj();
			end_line();
			return 0;
		}
	if (strcmp(cmd, "read") == 0 || strcmp(cmd, "openw") == 0) {
		open_arr();
		for (int i = 2; i < argc; i++) {
			if (cmd[0] == 'r')
				rep_read(argv[i]);
			else
				rep_open(argv[i], O_WRONLY);
		}
		close_arr();
		end_line();
		return 0;
	}
	if (strcmp(cmd, "exe-attack") == 0 && argc >= 3)
		return cmd_exe_attack(argv[2], argc > 3 ? argv[3] : NULL);
	if (strcmp(cmd, "hunt") == 0)
		return cmd_hunt(argc > 2 ? argv[2] : NULL, argc > 3 ? argv[3] : NULL);
	return -1;
}

static int usage(void)
{
	fputs("usage: probe ids|ns|hostname|mounts|cwd|env|fds|pid|caps|rlimits|signals-state|cgroup|net|tty|all\n"
	      "       probe stat PATH...|sleep N|exit N|signals|cat|echo ARG...|write PATH TEXT\n"
	      "       probe syscall NR [ARG...] [-- NR [ARG...]]...\n"
	      "       probe sched|ioprio|personality|nnp|mempolicy|exe|cwdinfo|read PATH...|openw PATH...\n"
	      "       probe exe-attack PID SECONDS|hunt SECONDS SECRET\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];

	for (size_t i = 0; i < sizeof object_cmds / sizeof object_cmds[0]; i++)
		if (strcmp(cmd, object_cmds[i].name) == 0) {
			open_obj();
			object_cmds[i].fn();
			close_obj();
			end_line();
			return 0;
		}
	for (size_t i = 0; i < sizeof value_cmds / sizeof value_cmds[0]; i++)
		if (strcmp(cmd, value_cmds[i].name) == 0) {
			value_cmds[i].fn();
			end_line();
			return 0;
		}

	if (strcmp(cmd, "all") == 0)
		return cmd_all();
	if (strcmp(cmd, "stat") == 0) {
		open_arr();
		for (int i = 2; i < argc; i++)
			rep_stat(argv[i]);
		close_arr();
		end_line();
		return 0;
	}
	if (strcmp(cmd, "echo") == 0) {
		open_arr();
		for (int i = 2; i < argc; i++)
			v_str(argv[i]);
		close_arr();
		end_line();
		return 0;
	}
	if (strcmp(cmd, "sleep") == 0)
		return cmd_sleep(argc > 2 ? argv[2] : NULL);
	if (strcmp(cmd, "exit") == 0)
		return argc > 2 ? atoi(argv[2]) : 0;
	if (strcmp(cmd, "signals") == 0)
		return cmd_signals();
	if (strcmp(cmd, "cat") == 0)
		return cmd_cat();
	if (strcmp(cmd, "write") == 0 && argc == 4)
		return cmd_write(argv[2], argv[3]);
	if (strcmp(cmd, "syscall") == 0)
		return cmd_syscall(argc - 2, argv + 2);
	int r = security_cmd(argc, argv);
	if (r >= 0)
		return r;
	return usage();
}
