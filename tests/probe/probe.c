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
 *   probe rlimits      soft/hard limits
 *   probe cgroup       /proc/self/cgroup lines
 *   probe net          network interfaces and whether they are up
 *   probe tty          isatty() of fds 0, 1, 2
 *   probe stat PATH..  lstat() of each path (type, mode, owner, rdev, target)
 *   probe all          everything above except stat in one object
 *   probe sleep N      sleep N seconds (fractions allowed), then exit 0
 *   probe exit N       exit with status N
 *   probe signals      print "ready", wait for the first signal,
 *                      print {"signal": N}, exit 128+N
 *   probe cat          copy stdin to stdout
 *   probe echo ARG..   print ARGs as a JSON list (args reached us intact)
 *   probe write PATH TEXT   write TEXT to PATH ({"ok":..,"errno":..})
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

static void rep_rlimits(void)
{
	static const struct { int res; const char *name; } lim[] = {
		{RLIMIT_NOFILE, "RLIMIT_NOFILE"}, {RLIMIT_NPROC, "RLIMIT_NPROC"},
		{RLIMIT_CORE, "RLIMIT_CORE"},     {RLIMIT_STACK, "RLIMIT_STACK"},
		{RLIMIT_AS, "RLIMIT_AS"},         {RLIMIT_CPU, "RLIMIT_CPU"},
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

static int usage(void)
{
	fputs("usage: probe ids|ns|hostname|mounts|cwd|env|fds|pid|caps|rlimits|cgroup|net|tty|all\n"
	      "       probe stat PATH...|sleep N|exit N|signals|cat|echo ARG...|write PATH TEXT\n",
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
	return usage();
}
