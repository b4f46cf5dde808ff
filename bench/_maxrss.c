/* _maxrss OUT CMD [ARG...]: runs CMD (an absolute path), writes its peak RSS in KiB (wait4's
 * ru_maxrss: CMD and the descendants it waited for) to the file OUT, exits with CMD's status.
 *
 * bench.py compiles this at run time.  It exists because ru_maxrss cannot be read for a command
 * spawned straight from Python: at exec the kernel records the old address space's high-water
 * mark as the child's maxrss, and that is Python's (vfork shares it, fork copies its anonymous
 * pages).  Forked from this small program, the old address space holds a few pages only.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fputs("usage: _maxrss OUT CMD [ARG...]\n", stderr);
		return 125;
	}
	pid_t pid = fork();
	if (pid < 0)
		return 126;
	if (pid == 0) {
		execv(argv[2], argv + 2);
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR)
			return 126;
	}
	FILE *f = fopen(argv[1], "w");
	if (f) {
		fprintf(f, "%ld\n", ru.ru_maxrss);
		fclose(f);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
