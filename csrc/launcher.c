/* launcher.c: the `ocirun` command.
 *
 * Starts the Python next to it in isolated mode without the site module (python3 -I -S): site
 * alone costs more than all the work of `ocirun state`, and a shell script launcher another
 * millisecond.  pip cannot write interpreter options into a script's #! line, so this small static
 * program (installed as <prefix>/bin/ocirun) does it:
 *
 *     <bindir>/python3 -I -S -c BOOT <bindir> ARGS...
 *
 * where <bindir> is the directory of this executable (/proc/self/exe, so symlinks to it work)
 * and BOOT adds <bindir>/../lib/pythonX.Y/site-packages to sys.path (falling back on site when
 * ocirun is installed elsewhere) and calls ocirun.cli.launch.
 *
 * BOOT also raises the garbage collector's first threshold from 700 to 10000 allocations: a
 * `create` allocates about 4000 objects while importing its modules, and the collections the
 * default threshold runs over them cost it 1.5 ms and free nothing (import makes no garbage).
 * Long-running commands (events, run, exec in the foreground) still collect, only less often.
 */
#include "nolibc.h"

static const char BOOT[] =
    "import sys,gc\n"
    "gc.set_threshold(10000)\n"
    "d=sys.argv.pop(1)\n"
    "sys.path.append('%s/../lib/python%d.%d/site-packages'%(d,*sys.version_info[:2]))\n"
    "try:\n"
    " from ocirun.cli import launch\n"
    "except ImportError:\n"
    " import site;site.main()\n"
    " from ocirun.cli import launch\n"
    "sys.argv[0]='ocirun'\n"
    "launch(sys.argv[1:])\n";

static void die(const char *msg)
{
    SC3(__NR_write, 2, msg, str_len(msg));
    SC1(__NR_exit_group, 127);
}

static int launcher_main(int argc, char **argv, char **envp)
{
    static char dir[4096], python[4200];
    long n = SC3(__NR_readlink, "/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0)
        die("ocirun: cannot find its own location (/proc/self/exe)\n");
    dir[n] = 0;
    while (n > 0 && dir[n - 1] != '/')
        n--;
    if (n > 1)
        n--;
    dir[n] = 0;

    /* argv for python: python3 -I -S -c BOOT <dir> args... (args are argv[1..]) */
    char *pargv[argc + 6];
    int k = 0;
    pargv[k++] = python; /* Python finds its prefix from argv[0] */
    pargv[k++] = "-I";
    pargv[k++] = "-S";
    pargv[k++] = "-c";
    pargv[k++] = (char *)BOOT;
    pargv[k++] = dir;
    for (int i = 1; i < argc; i++)
        pargv[k++] = argv[i];
    pargv[k] = 0;

    static const char *names[] = {"/python3", "/python"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *p = python + str_copy(python, sizeof python, dir);
        str_copy(p, sizeof python - (size_t)(p - python), names[i]);
        SC3(__NR_execve, python, pargv, envp);
    }
    die("ocirun: no python3 next to the ocirun command\n");
    return 127;
}

__attribute__((used)) void start_c(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    SC1(__NR_exit_group, launcher_main(argc, argv, envp));
}
