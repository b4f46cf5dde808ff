/* weaken.h: switches that take one protection out, for attack-test builds only.
 *
 * `make attack-proof` (tests/attack_proof.py) builds ocirun once per switch, with
 * -DOCIRUN_WEAKEN_<NAME>=1 (setup.py, from $OCIRUN_WEAKEN=<name>), into a separate venv, and checks
 * that the attack tests covering that protection FAIL there: proof that they would catch its loss.
 * A normal build defines none of them, and the code compiles to what it was without the switch.
 */
#ifndef OCIRUN_WEAKEN_H
#define OCIRUN_WEAKEN_H

#ifndef OCIRUN_WEAKEN_NO_RESOLVE_IN_ROOT
#define OCIRUN_WEAKEN_NO_RESOLVE_IN_ROOT 0
#endif
#ifndef OCIRUN_WEAKEN_HOST_INIT
#define OCIRUN_WEAKEN_HOST_INIT 0
#endif
#ifndef OCIRUN_WEAKEN_NO_CLOSE_RANGE
#define OCIRUN_WEAKEN_NO_CLOSE_RANGE 0
#endif
#ifndef OCIRUN_WEAKEN_NO_CWD_CHECK
#define OCIRUN_WEAKEN_NO_CWD_CHECK 0
#endif
#ifndef OCIRUN_WEAKEN_UNVERIFIED_DEVNULL
#define OCIRUN_WEAKEN_UNVERIFIED_DEVNULL 0
#endif
#ifndef OCIRUN_WEAKEN_DUMPABLE_INIT
#define OCIRUN_WEAKEN_DUMPABLE_INIT 0
#endif
#ifndef OCIRUN_WEAKEN_NO_PROCFS_CHECK
#define OCIRUN_WEAKEN_NO_PROCFS_CHECK 0
#endif
#ifndef OCIRUN_WEAKEN_REPLACE_DEVICES
#define OCIRUN_WEAKEN_REPLACE_DEVICES 0
#endif
#ifndef OCIRUN_WEAKEN_NO_PLAIN_DIR_CHECK
#define OCIRUN_WEAKEN_NO_PLAIN_DIR_CHECK 0
#endif
#ifndef OCIRUN_WEAKEN_FOLLOW_CONSOLE
#define OCIRUN_WEAKEN_FOLLOW_CONSOLE 0
#endif
#ifndef OCIRUN_WEAKEN_KEEP_HOST_PROCFS
#define OCIRUN_WEAKEN_KEEP_HOST_PROCFS 0
#endif
#define WEAKENED(name) (OCIRUN_WEAKEN_##name)

#endif
