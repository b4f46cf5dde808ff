# GENERATED FILE, DO NOT EDIT.  Made by `python -m ocirun.spec.compile_schema` from
# config.schema.json; edit the schema (or the generator) and run it again.
# ruff: noqa
"""Fast validator for config.json, generated from ``config.schema.json``.

``validate(doc)`` returns ``None`` when ``doc`` (a decoded JSON document) is valid, else
``(json_path, message)`` for the first problem found, e.g.
``('$.process.user.uid', 'must be an integer between 0 and 4294967295, got -1')``.

The module imports nothing.  Integers are Python ``int`` values that are not ``bool``;
fractional numbers are never integers.  No ``from __future__`` import either (importing
``__future__`` costs more than this module): return annotations are strings.
"""

TYPE_CHECKING = False  # without importing typing; mypy reads this name as typing's
if TYPE_CHECKING:
    from collections.abc import Iterable

_NO = object()  # "property absent" marker: JSON null is None


def _got(v: object) -> str:
    """Describe a JSON value briefly for an error message."""
    if v is None:
        return 'null'
    if v is True:
        return 'true'
    if v is False:
        return 'false'
    if type(v) is int or type(v) is float:
        return repr(v)
    if type(v) is str:
        return 'string ' + repr(v if len(v) <= 40 else v[:37] + '...')
    if type(v) is dict:
        return 'object'
    if type(v) is list:
        return 'array'
    return type(v).__name__


def _seg(key: str) -> str:
    """Path segment of an object member: .name, or ['other key'] if not a plain name."""
    if key.isascii() and key.isidentifier():
        return '.' + key
    return "[" + repr(key) + "]"


def json_path(parts: "Iterable[str | int]") -> str:
    """JSON path ``$.a.b[0]`` of a sequence of member names and array indexes."""
    out = '$'
    for p in parts:
        out += '[%d]' % p if type(p) is int else _seg(str(p))
    return out


def validate(doc: object) -> "tuple[str, str] | None":
    """None if ``doc`` is a valid configuration, else (JSON path, message)."""
    r = _root(doc)
    if r is None:
        return None
    return ('$' + r[0], r[1])


# -- patterns of the schema, as predicates --

_DIGITS = '0123456789'
_ALNUM_HYPHEN = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-'
_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'


# ^1\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$
def _is_version_1(s: str) -> bool:
    """1.MINOR.PATCH[-PRERELEASE][+BUILD] as defined by SemVer 2.0.0."""
    s, plus, build = s.partition('+')
    if plus:
        for ident in build.split('.'):
            if not ident or ident.strip(_ALNUM_HYPHEN):
                return False
    s, dash, pre = s.partition('-')
    if dash:
        for ident in pre.split('.'):
            if not ident or ident.strip(_ALNUM_HYPHEN):
                return False
            if len(ident) > 1 and ident[0] == '0' and not ident.strip(_DIGITS):
                return False
    parts = s.split('.')
    if len(parts) != 3 or parts[0] != '1':
        return False
    for num in parts[1:]:
        if not num or num.strip(_DIGITS) or (len(num) > 1 and num[0] == '0'):
            return False
    return True


# ^/
def _is_absolute(s: str) -> bool:
    return s[:1] == '/'


# ^RLIMIT_[A-Z]+$
def _is_rlimit(s: str) -> bool:
    return len(s) > 7 and s[:7] == 'RLIMIT_' and not s[7:].strip(_UPPER)


# ^[0-9, -]*$
def _is_cpu_list(s: str) -> bool:
    return not s.strip('0123456789, -')


# ^[rwm]*$
def _is_access(s: str) -> bool:
    return not s.strip('rwm')


# ^[1-9][0-9]*[KMG]B$
def _is_page_size(s: str) -> bool:
    return (len(s) > 2 and s[-1] == 'B' and s[-2] in 'KMG' and s[0] in '123456789'
            and not s[1:-2].strip(_DIGITS))


# ^MB:[^\n]*$
def _is_mb_schema(s: str) -> bool:
    return s[:3] == 'MB:' and '\n' not in s


# ^[^\n]*$
def _is_one_line(s: str) -> bool:
    return '\n' not in s


# -- enums and property sets --

_E1 = frozenset(('SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE',))
_E2 = frozenset(('SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM', 'SCHED_FLAG_DL_OVERRUN', 'SCHED_FLAG_KEEP_POLICY', 'SCHED_FLAG_KEEP_PARAMS', 'SCHED_FLAG_UTIL_CLAMP_MIN', 'SCHED_FLAG_UTIL_CLAMP_MAX',))
_E3 = frozenset(('IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE',))
_E4 = frozenset(('pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time',))
_E5 = frozenset(('c', 'b', 'u', 'p',))
_E6 = frozenset(('a', 'c', 'b',))
_E7 = frozenset(('MPOL_DEFAULT', 'MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED', 'MPOL_PREFERRED_MANY', 'MPOL_LOCAL',))
_E8 = frozenset(('MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES',))
_E9 = frozenset(('SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',))
_E10 = frozenset(('SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',))
_E11 = frozenset(('SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',))
_E12 = frozenset(('SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',))
_E13 = frozenset(('shared', 'slave', 'private', 'unbindable', 'rshared', 'rslave', 'rprivate', 'runbindable',))
_E14 = frozenset(('LINUX', 'LINUX32',))


# -- one function per schema node --


def _v_root(x: object) -> "tuple[str, str] | None":
    """Check #/properties/root of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'path' not in x:
        return ('', "'path' is a required property")
    v = x['path']
    if type(v) is not str:
        return ('.path', 'must be a string, got ' + _got(v))
    v = x.get('readonly', _NO)
    if v is not _NO:
        if type(v) is not bool:
            return ('.readonly', 'must be a boolean, got ' + _got(v))
    return None


def _v_StringList(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/StringList of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        if type(v) is not str:
            return ('[%d]' % i, 'must be a string, got ' + _got(v))
    return None


def _v_IDMapping(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/IDMapping of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'containerID' not in x:
        return ('', "'containerID' is a required property")
    if 'hostID' not in x:
        return ('', "'hostID' is a required property")
    if 'size' not in x:
        return ('', "'size' is a required property")
    v = x['containerID']
    if type(v) is not int or v < 0 or v > 4294967295:
        return ('.containerID', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    v = x['hostID']
    if type(v) is not int or v < 0 or v > 4294967295:
        return ('.hostID', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    v = x['size']
    if type(v) is not int or v < 0 or v > 4294967295:
        return ('.size', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    return None


def _v_IDMappingList(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/IDMappingList of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_IDMapping(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_Mount(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Mount of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'destination' not in x:
        return ('', "'destination' is a required property")
    if 'uidMappings' in x and 'gidMappings' not in x:
        return ('', "'gidMappings' is required when 'uidMappings' is present")
    if 'gidMappings' in x and 'uidMappings' not in x:
        return ('', "'uidMappings' is required when 'gidMappings' is present")
    v = x['destination']
    if type(v) is not str:
        return ('.destination', 'must be a string, got ' + _got(v))
    v = x.get('source', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.source', 'must be a string, got ' + _got(v))
    v = x.get('options', _NO)
    if v is not _NO:
        r = _v_StringList(v)
        if r is not None:
            return ('.options' + r[0], r[1])
    v = x.get('type', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.type', 'must be a string, got ' + _got(v))
    v = x.get('uidMappings', _NO)
    if v is not _NO:
        r = _v_IDMappingList(v)
        if r is not None:
            return ('.uidMappings' + r[0], r[1])
    v = x.get('gidMappings', _NO)
    if v is not _NO:
        r = _v_IDMappingList(v)
        if r is not None:
            return ('.gidMappings' + r[0], r[1])
    return None


def _v_mounts(x: object) -> "tuple[str, str] | None":
    """Check #/properties/mounts of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_Mount(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_Process_consoleSize(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Process/properties/consoleSize of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'height' not in x:
        return ('', "'height' is a required property")
    if 'width' not in x:
        return ('', "'width' is a required property")
    v = x['height']
    if type(v) is not int or v < 0 or v > 18446744073709551615:
        return ('.height', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    v = x['width']
    if type(v) is not int or v < 0 or v > 18446744073709551615:
        return ('.width', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    return None


def _v_Process_args(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Process/properties/args of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    if len(x) < 1:
        return ('', 'must not be empty')
    for i, v in enumerate(x):
        if type(v) is not str:
            return ('[%d]' % i, 'must be a string, got ' + _got(v))
    return None


def _v_Process_rlimits_items(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Process/properties/rlimits/items of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'type' not in x:
        return ('', "'type' is a required property")
    if 'soft' not in x:
        return ('', "'soft' is a required property")
    if 'hard' not in x:
        return ('', "'hard' is a required property")
    v = x['type']
    if type(v) is not str:
        return ('.type', 'must be a string, got ' + _got(v))
    if not _is_rlimit(v):
        return ('.type', repr(v) + ' is not a resource limit name (RLIMIT_ followed by A-Z)')
    v = x['soft']
    if type(v) is not int or v < 0 or v > 18446744073709551615:
        return ('.soft', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    v = x['hard']
    if type(v) is not int or v < 0 or v > 18446744073709551615:
        return ('.hard', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    return None


def _v_Process_rlimits(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Process/properties/rlimits of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_Process_rlimits_items(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_CapabilityList(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/CapabilityList of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        if type(v) is not str:
            return ('[%d]' % i, 'must be a string, got ' + _got(v))
    return None


def _v_Process_capabilities(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Process/properties/capabilities of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('effective', _NO)
    if v is not _NO:
        r = _v_CapabilityList(v)
        if r is not None:
            return ('.effective' + r[0], r[1])
    v = x.get('bounding', _NO)
    if v is not _NO:
        r = _v_CapabilityList(v)
        if r is not None:
            return ('.bounding' + r[0], r[1])
    v = x.get('inheritable', _NO)
    if v is not _NO:
        r = _v_CapabilityList(v)
        if r is not None:
            return ('.inheritable' + r[0], r[1])
    v = x.get('permitted', _NO)
    if v is not _NO:
        r = _v_CapabilityList(v)
        if r is not None:
            return ('.permitted' + r[0], r[1])
    v = x.get('ambient', _NO)
    if v is not _NO:
        r = _v_CapabilityList(v)
        if r is not None:
            return ('.ambient' + r[0], r[1])
    return None


def _v_Process_scheduler_flags(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Process/properties/scheduler/properties/flags of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        if type(v) is not str:
            return ('[%d]' % i, 'must be a string, got ' + _got(v))
        if v not in _E2:
            return ('[%d]' % i, repr(v) + " is not one of 'SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM', 'SCHED_FLAG_DL_OVERRUN', 'SCHED_FLAG_KEEP_POLICY', 'SCHED_FLAG_KEEP_PARAMS', 'SCHED_FLAG_UTIL_CLAMP_MIN', 'SCHED_FLAG_UTIL_CLAMP_MAX'")
    return None


def _v_Process_scheduler(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Process/properties/scheduler of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'policy' not in x:
        return ('', "'policy' is a required property")
    v = x['policy']
    if type(v) is not str:
        return ('.policy', 'must be a string, got ' + _got(v))
    if v not in _E1:
        return ('.policy', repr(v) + " is not one of 'SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE'")
    v = x.get('nice', _NO)
    if v is not _NO:
        if type(v) is not int or v < -2147483648 or v > 2147483647:
            return ('.nice', 'must be an integer between -2147483648 and 2147483647, got ' + _got(v))
    v = x.get('priority', _NO)
    if v is not _NO:
        if type(v) is not int or v < -2147483648 or v > 2147483647:
            return ('.priority', 'must be an integer between -2147483648 and 2147483647, got ' + _got(v))
    v = x.get('flags', _NO)
    if v is not _NO:
        r = _v_Process_scheduler_flags(v)
        if r is not None:
            return ('.flags' + r[0], r[1])
    v = x.get('runtime', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 18446744073709551615:
            return ('.runtime', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    v = x.get('deadline', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 18446744073709551615:
            return ('.deadline', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    v = x.get('period', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 18446744073709551615:
            return ('.period', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    return None


def _v_Process_ioPriority(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Process/properties/ioPriority of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'class' not in x:
        return ('', "'class' is a required property")
    if 'priority' not in x:
        return ('', "'priority' is a required property")
    v = x['class']
    if type(v) is not str:
        return ('.class', 'must be a string, got ' + _got(v))
    if v not in _E3:
        return ('.class', repr(v) + " is not one of 'IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'")
    v = x['priority']
    if type(v) is not int or v < 0 or v > 7:
        return ('.priority', 'must be an integer between 0 and 7, got ' + _got(v))
    return None


def _v_Process_execCPUAffinity(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Process/properties/execCPUAffinity of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('initial', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.initial', 'must be a string, got ' + _got(v))
        if not _is_cpu_list(v):
            return ('.initial', repr(v) + ' is not a CPU list such as 0-3,7')
    v = x.get('final', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.final', 'must be a string, got ' + _got(v))
        if not _is_cpu_list(v):
            return ('.final', repr(v) + ' is not a CPU list such as 0-3,7')
    return None


def _v_Process_user_additionalGids(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Process/properties/user/properties/additionalGids of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        if type(v) is not int or v < 0 or v > 4294967295:
            return ('[%d]' % i, 'must be an integer between 0 and 4294967295, got ' + _got(v))
    return None


def _v_Process_user(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Process/properties/user of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'uid' not in x:
        return ('', "'uid' is a required property")
    if 'gid' not in x:
        return ('', "'gid' is a required property")
    v = x['uid']
    if type(v) is not int or v < 0 or v > 4294967295:
        return ('.uid', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    v = x['gid']
    if type(v) is not int or v < 0 or v > 4294967295:
        return ('.gid', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    v = x.get('umask', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 4294967295:
            return ('.umask', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    v = x.get('additionalGids', _NO)
    if v is not _NO:
        r = _v_Process_user_additionalGids(v)
        if r is not None:
            return ('.additionalGids' + r[0], r[1])
    v = x.get('username', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.username', 'must be a string, got ' + _got(v))
    return None


def _v_Process(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Process of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'cwd' not in x:
        return ('', "'cwd' is a required property")
    if 'args' not in x:
        return ('', "'args' is a required property")
    v = x.get('terminal', _NO)
    if v is not _NO:
        if type(v) is not bool:
            return ('.terminal', 'must be a boolean, got ' + _got(v))
    v = x.get('consoleSize', _NO)
    if v is not _NO:
        r = _v_Process_consoleSize(v)
        if r is not None:
            return ('.consoleSize' + r[0], r[1])
    v = x['cwd']
    if type(v) is not str:
        return ('.cwd', 'must be a string, got ' + _got(v))
    if not _is_absolute(v):
        return ('.cwd', repr(v) + ' is not an absolute path')
    v = x.get('env', _NO)
    if v is not _NO:
        r = _v_StringList(v)
        if r is not None:
            return ('.env' + r[0], r[1])
    v = x['args']
    r = _v_Process_args(v)
    if r is not None:
        return ('.args' + r[0], r[1])
    v = x.get('commandLine', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.commandLine', 'must be a string, got ' + _got(v))
    v = x.get('rlimits', _NO)
    if v is not _NO:
        r = _v_Process_rlimits(v)
        if r is not None:
            return ('.rlimits' + r[0], r[1])
    v = x.get('apparmorProfile', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.apparmorProfile', 'must be a string, got ' + _got(v))
    v = x.get('capabilities', _NO)
    if v is not _NO:
        r = _v_Process_capabilities(v)
        if r is not None:
            return ('.capabilities' + r[0], r[1])
    v = x.get('noNewPrivileges', _NO)
    if v is not _NO:
        if type(v) is not bool:
            return ('.noNewPrivileges', 'must be a boolean, got ' + _got(v))
    v = x.get('oomScoreAdj', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.oomScoreAdj', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('scheduler', _NO)
    if v is not _NO:
        r = _v_Process_scheduler(v)
        if r is not None:
            return ('.scheduler' + r[0], r[1])
    v = x.get('selinuxLabel', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.selinuxLabel', 'must be a string, got ' + _got(v))
    v = x.get('ioPriority', _NO)
    if v is not _NO:
        r = _v_Process_ioPriority(v)
        if r is not None:
            return ('.ioPriority' + r[0], r[1])
    v = x.get('execCPUAffinity', _NO)
    if v is not _NO:
        r = _v_Process_execCPUAffinity(v)
        if r is not None:
            return ('.execCPUAffinity' + r[0], r[1])
    v = x.get('user', _NO)
    if v is not _NO:
        r = _v_Process_user(v)
        if r is not None:
            return ('.user' + r[0], r[1])
    return None


def _v_Hook(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Hook of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'path' not in x:
        return ('', "'path' is a required property")
    v = x['path']
    if type(v) is not str:
        return ('.path', 'must be a string, got ' + _got(v))
    if not _is_absolute(v):
        return ('.path', repr(v) + ' is not an absolute path')
    v = x.get('args', _NO)
    if v is not _NO:
        r = _v_StringList(v)
        if r is not None:
            return ('.args' + r[0], r[1])
    v = x.get('env', _NO)
    if v is not _NO:
        r = _v_StringList(v)
        if r is not None:
            return ('.env' + r[0], r[1])
    v = x.get('timeout', _NO)
    if v is not _NO:
        if type(v) is not int or v < 1 or v > 9223372036854775807:
            return ('.timeout', 'must be an integer between 1 and 9223372036854775807, got ' + _got(v))
    return None


def _v_HookList(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/HookList of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_Hook(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_hooks(x: object) -> "tuple[str, str] | None":
    """Check #/properties/hooks of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('prestart', _NO)
    if v is not _NO:
        r = _v_HookList(v)
        if r is not None:
            return ('.prestart' + r[0], r[1])
    v = x.get('createRuntime', _NO)
    if v is not _NO:
        r = _v_HookList(v)
        if r is not None:
            return ('.createRuntime' + r[0], r[1])
    v = x.get('createContainer', _NO)
    if v is not _NO:
        r = _v_HookList(v)
        if r is not None:
            return ('.createContainer' + r[0], r[1])
    v = x.get('startContainer', _NO)
    if v is not _NO:
        r = _v_HookList(v)
        if r is not None:
            return ('.startContainer' + r[0], r[1])
    v = x.get('poststart', _NO)
    if v is not _NO:
        r = _v_HookList(v)
        if r is not None:
            return ('.poststart' + r[0], r[1])
    v = x.get('poststop', _NO)
    if v is not _NO:
        r = _v_HookList(v)
        if r is not None:
            return ('.poststop' + r[0], r[1])
    return None


def _v_StringMap(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/StringMap of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if '' in x:
        return ('', "property name '' must not be empty")
    for k, v in x.items():
        if type(v) is not str:
            return (_seg(k), 'must be a string, got ' + _got(v))
    return None


def _v_Namespace(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Namespace of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'type' not in x:
        return ('', "'type' is a required property")
    v = x['type']
    if type(v) is not str:
        return ('.type', 'must be a string, got ' + _got(v))
    if v not in _E4:
        return ('.type', repr(v) + " is not one of 'pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'")
    v = x.get('path', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.path', 'must be a string, got ' + _got(v))
        if not _is_absolute(v):
            return ('.path', repr(v) + ' is not an absolute path')
    return None


def _v_Linux_namespaces(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/namespaces of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_Namespace(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_Linux_timeOffsets_additionalProperties(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/timeOffsets/additionalProperties of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('secs', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.secs', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('nanosecs', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 4294967295:
            return ('.nanosecs', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    return None


def _v_Linux_timeOffsets(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/timeOffsets of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    for k, v in x.items():
        r = _v_Linux_timeOffsets_additionalProperties(v)
        if r is not None:
            return (_seg(k) + r[0], r[1])
    return None


def _v_Device_if(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Device/if of the schema."""
    if type(x) is dict:
        v = x.get('type', _NO)
        if v is not _NO:
            if v != 'p':
                return ('.type', "must be 'p', got " + _got(v))
    return None


def _v_Device_else(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Device/else of the schema."""
    if type(x) is dict:
        if 'major' not in x:
            return ('', "'major' is a required property")
        if 'minor' not in x:
            return ('', "'minor' is a required property")
    return None


def _v_Device(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Device of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'type' not in x:
        return ('', "'type' is a required property")
    if 'path' not in x:
        return ('', "'path' is a required property")
    v = x['type']
    if type(v) is not str:
        return ('.type', 'must be a string, got ' + _got(v))
    if v not in _E5:
        return ('.type', repr(v) + " is not one of 'c', 'b', 'u', 'p'")
    v = x['path']
    if type(v) is not str:
        return ('.path', 'must be a string, got ' + _got(v))
    v = x.get('major', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.major', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('minor', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.minor', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('fileMode', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 4294967295:
            return ('.fileMode', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    v = x.get('uid', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 4294967295:
            return ('.uid', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    v = x.get('gid', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 4294967295:
            return ('.gid', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    if _v_Device_if(x) is not None:
        r = _v_Device_else(x)
        if r is not None:
            return r
    return None


def _v_Linux_devices(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/devices of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_Device(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_Linux_netDevices_additionalProperties(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/netDevices/additionalProperties of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('name', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.name', 'must be a string, got ' + _got(v))
    return None


def _v_Linux_netDevices(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/netDevices of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    for k, v in x.items():
        r = _v_Linux_netDevices_additionalProperties(v)
        if r is not None:
            return (_seg(k) + r[0], r[1])
    return None


def _v_DeviceRule(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/DeviceRule of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'allow' not in x:
        return ('', "'allow' is a required property")
    v = x['allow']
    if type(v) is not bool:
        return ('.allow', 'must be a boolean, got ' + _got(v))
    v = x.get('type', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.type', 'must be a string, got ' + _got(v))
        if v not in _E6:
            return ('.type', repr(v) + " is not one of 'a', 'c', 'b'")
    v = x.get('major', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.major', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('minor', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.minor', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('access', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.access', 'must be a string, got ' + _got(v))
        if not _is_access(v):
            return ('.access', repr(v) + ' is not a combination of r, w and m')
    return None


def _v_Resources_devices(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/devices of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_DeviceRule(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_Resources_memory(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/memory of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('limit', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.limit', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('reservation', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.reservation', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('swap', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.swap', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('kernel', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.kernel', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('kernelTCP', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.kernelTCP', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('swappiness', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 100:
            return ('.swappiness', 'must be an integer between 0 and 100, got ' + _got(v))
    v = x.get('disableOOMKiller', _NO)
    if v is not _NO:
        if type(v) is not bool:
            return ('.disableOOMKiller', 'must be a boolean, got ' + _got(v))
    v = x.get('useHierarchy', _NO)
    if v is not _NO:
        if type(v) is not bool:
            return ('.useHierarchy', 'must be a boolean, got ' + _got(v))
    v = x.get('checkBeforeUpdate', _NO)
    if v is not _NO:
        if type(v) is not bool:
            return ('.checkBeforeUpdate', 'must be a boolean, got ' + _got(v))
    return None


def _v_Resources_cpu(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/cpu of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('shares', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 18446744073709551615:
            return ('.shares', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    v = x.get('quota', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.quota', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('burst', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 18446744073709551615:
            return ('.burst', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    v = x.get('period', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 18446744073709551615:
            return ('.period', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    v = x.get('realtimeRuntime', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.realtimeRuntime', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('realtimePeriod', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 18446744073709551615:
            return ('.realtimePeriod', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    v = x.get('cpus', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.cpus', 'must be a string, got ' + _got(v))
    v = x.get('mems', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.mems', 'must be a string, got ' + _got(v))
    v = x.get('idle', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.idle', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    return None


def _v_Resources_blockIO_weightDevice_items(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/blockIO/properties/weightDevice/items of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'major' not in x:
        return ('', "'major' is a required property")
    if 'minor' not in x:
        return ('', "'minor' is a required property")
    v = x['major']
    if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
        return ('.major', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x['minor']
    if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
        return ('.minor', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x.get('weight', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 65535:
            return ('.weight', 'must be an integer between 0 and 65535, got ' + _got(v))
    v = x.get('leafWeight', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 65535:
            return ('.leafWeight', 'must be an integer between 0 and 65535, got ' + _got(v))
    if 'weight' not in x and 'leafWeight' not in x:
        return ('', "must have at least one of 'weight', 'leafWeight'")
    return None


def _v_Resources_blockIO_weightDevice(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/blockIO/properties/weightDevice of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_Resources_blockIO_weightDevice_items(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_BlockIOThrottle(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/BlockIOThrottle of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'major' not in x:
        return ('', "'major' is a required property")
    if 'minor' not in x:
        return ('', "'minor' is a required property")
    if 'rate' not in x:
        return ('', "'rate' is a required property")
    v = x['major']
    if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
        return ('.major', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x['minor']
    if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
        return ('.minor', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    v = x['rate']
    if type(v) is not int or v < 0 or v > 18446744073709551615:
        return ('.rate', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    return None


def _v_BlockIOThrottleList(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/BlockIOThrottleList of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_BlockIOThrottle(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_Resources_blockIO(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/blockIO of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('weight', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 65535:
            return ('.weight', 'must be an integer between 0 and 65535, got ' + _got(v))
    v = x.get('leafWeight', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 65535:
            return ('.leafWeight', 'must be an integer between 0 and 65535, got ' + _got(v))
    v = x.get('weightDevice', _NO)
    if v is not _NO:
        r = _v_Resources_blockIO_weightDevice(v)
        if r is not None:
            return ('.weightDevice' + r[0], r[1])
    v = x.get('throttleReadBpsDevice', _NO)
    if v is not _NO:
        r = _v_BlockIOThrottleList(v)
        if r is not None:
            return ('.throttleReadBpsDevice' + r[0], r[1])
    v = x.get('throttleWriteBpsDevice', _NO)
    if v is not _NO:
        r = _v_BlockIOThrottleList(v)
        if r is not None:
            return ('.throttleWriteBpsDevice' + r[0], r[1])
    v = x.get('throttleReadIOPSDevice', _NO)
    if v is not _NO:
        r = _v_BlockIOThrottleList(v)
        if r is not None:
            return ('.throttleReadIOPSDevice' + r[0], r[1])
    v = x.get('throttleWriteIOPSDevice', _NO)
    if v is not _NO:
        r = _v_BlockIOThrottleList(v)
        if r is not None:
            return ('.throttleWriteIOPSDevice' + r[0], r[1])
    return None


def _v_Resources_hugepageLimits_items(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/hugepageLimits/items of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'pageSize' not in x:
        return ('', "'pageSize' is a required property")
    if 'limit' not in x:
        return ('', "'limit' is a required property")
    v = x['pageSize']
    if type(v) is not str:
        return ('.pageSize', 'must be a string, got ' + _got(v))
    if not _is_page_size(v):
        return ('.pageSize', repr(v) + ' is not a huge page size such as 64KB, 2MB or 1GB')
    v = x['limit']
    if type(v) is not int or v < 0 or v > 18446744073709551615:
        return ('.limit', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    return None


def _v_Resources_hugepageLimits(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/hugepageLimits of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_Resources_hugepageLimits_items(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_Resources_network_priorities_items(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/network/properties/priorities/items of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'name' not in x:
        return ('', "'name' is a required property")
    if 'priority' not in x:
        return ('', "'priority' is a required property")
    v = x['name']
    if type(v) is not str:
        return ('.name', 'must be a string, got ' + _got(v))
    v = x['priority']
    if type(v) is not int or v < 0 or v > 4294967295:
        return ('.priority', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    return None


def _v_Resources_network_priorities(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/network/properties/priorities of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_Resources_network_priorities_items(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_Resources_network(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/network of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('classID', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 4294967295:
            return ('.classID', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    v = x.get('priorities', _NO)
    if v is not _NO:
        r = _v_Resources_network_priorities(v)
        if r is not None:
            return ('.priorities' + r[0], r[1])
    return None


def _v_Resources_pids(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/pids of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('limit', _NO)
    if v is not _NO:
        if type(v) is not int or v < -9223372036854775808 or v > 9223372036854775807:
            return ('.limit', 'must be an integer between -9223372036854775808 and 9223372036854775807, got ' + _got(v))
    return None


def _v_Resources_rdma_additionalProperties(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/rdma/additionalProperties of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('hcaHandles', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 4294967295:
            return ('.hcaHandles', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    v = x.get('hcaObjects', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 4294967295:
            return ('.hcaObjects', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    if 'hcaHandles' not in x and 'hcaObjects' not in x:
        return ('', "must have at least one of 'hcaHandles', 'hcaObjects'")
    return None


def _v_Resources_rdma(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources/properties/rdma of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    for k, v in x.items():
        r = _v_Resources_rdma_additionalProperties(v)
        if r is not None:
            return (_seg(k) + r[0], r[1])
    return None


def _v_Resources(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Resources of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('devices', _NO)
    if v is not _NO:
        r = _v_Resources_devices(v)
        if r is not None:
            return ('.devices' + r[0], r[1])
    v = x.get('memory', _NO)
    if v is not _NO:
        r = _v_Resources_memory(v)
        if r is not None:
            return ('.memory' + r[0], r[1])
    v = x.get('cpu', _NO)
    if v is not _NO:
        r = _v_Resources_cpu(v)
        if r is not None:
            return ('.cpu' + r[0], r[1])
    v = x.get('blockIO', _NO)
    if v is not _NO:
        r = _v_Resources_blockIO(v)
        if r is not None:
            return ('.blockIO' + r[0], r[1])
    v = x.get('hugepageLimits', _NO)
    if v is not _NO:
        r = _v_Resources_hugepageLimits(v)
        if r is not None:
            return ('.hugepageLimits' + r[0], r[1])
    v = x.get('network', _NO)
    if v is not _NO:
        r = _v_Resources_network(v)
        if r is not None:
            return ('.network' + r[0], r[1])
    v = x.get('pids', _NO)
    if v is not _NO:
        r = _v_Resources_pids(v)
        if r is not None:
            return ('.pids' + r[0], r[1])
    v = x.get('rdma', _NO)
    if v is not _NO:
        r = _v_Resources_rdma(v)
        if r is not None:
            return ('.rdma' + r[0], r[1])
    v = x.get('unified', _NO)
    if v is not _NO:
        r = _v_StringMap(v)
        if r is not None:
            return ('.unified' + r[0], r[1])
    return None


def _v_Linux_intelRdt_schemata(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/intelRdt/properties/schemata of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        if type(v) is not str:
            return ('[%d]' % i, 'must be a string, got ' + _got(v))
        if not _is_one_line(v):
            return ('[%d]' % i, repr(v) + ' is not a single line (it contains a newline)')
    return None


def _v_Linux_intelRdt(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/intelRdt of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('closID', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.closID', 'must be a string, got ' + _got(v))
    v = x.get('l3CacheSchema', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.l3CacheSchema', 'must be a string, got ' + _got(v))
    v = x.get('memBwSchema', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.memBwSchema', 'must be a string, got ' + _got(v))
        if not _is_mb_schema(v):
            return ('.memBwSchema', repr(v) + ' is not a memory bandwidth schema (one line starting with MB:)')
    v = x.get('schemata', _NO)
    if v is not _NO:
        r = _v_Linux_intelRdt_schemata(v)
        if r is not None:
            return ('.schemata' + r[0], r[1])
    v = x.get('enableMonitoring', _NO)
    if v is not _NO:
        if type(v) is not bool:
            return ('.enableMonitoring', 'must be a boolean, got ' + _got(v))
    return None


def _v_Linux_memoryPolicy_flags(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/memoryPolicy/properties/flags of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        if type(v) is not str:
            return ('[%d]' % i, 'must be a string, got ' + _got(v))
        if v not in _E8:
            return ('[%d]' % i, repr(v) + " is not one of 'MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES'")
    return None


def _v_Linux_memoryPolicy(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/memoryPolicy of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'mode' not in x:
        return ('', "'mode' is a required property")
    v = x['mode']
    if type(v) is not str:
        return ('.mode', 'must be a string, got ' + _got(v))
    if v not in _E7:
        return ('.mode', repr(v) + " is not one of 'MPOL_DEFAULT', 'MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED', 'MPOL_PREFERRED_MANY', 'MPOL_LOCAL'")
    v = x.get('nodes', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.nodes', 'must be a string, got ' + _got(v))
    v = x.get('flags', _NO)
    if v is not _NO:
        r = _v_Linux_memoryPolicy_flags(v)
        if r is not None:
            return ('.flags' + r[0], r[1])
    return None


def _v_Seccomp_architectures(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Seccomp/properties/architectures of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        if type(v) is not str:
            return ('[%d]' % i, 'must be a string, got ' + _got(v))
        if v not in _E10:
            return ('[%d]' % i, repr(v) + " is not one of 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB'")
    return None


def _v_Seccomp_flags(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Seccomp/properties/flags of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        if type(v) is not str:
            return ('[%d]' % i, 'must be a string, got ' + _got(v))
        if v not in _E11:
            return ('[%d]' % i, repr(v) + " is not one of 'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'")
    return None


def _v_Syscall_names(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Syscall/properties/names of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    if len(x) < 1:
        return ('', 'must not be empty')
    for i, v in enumerate(x):
        if type(v) is not str:
            return ('[%d]' % i, 'must be a string, got ' + _got(v))
    return None


def _v_Syscall_args_items(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Syscall/properties/args/items of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'index' not in x:
        return ('', "'index' is a required property")
    if 'value' not in x:
        return ('', "'value' is a required property")
    if 'op' not in x:
        return ('', "'op' is a required property")
    v = x['index']
    if type(v) is not int or v < 0 or v > 4294967295:
        return ('.index', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    v = x['value']
    if type(v) is not int or v < 0 or v > 18446744073709551615:
        return ('.value', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    v = x.get('valueTwo', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 18446744073709551615:
            return ('.valueTwo', 'must be an integer between 0 and 18446744073709551615, got ' + _got(v))
    v = x['op']
    if type(v) is not str:
        return ('.op', 'must be a string, got ' + _got(v))
    if v not in _E12:
        return ('.op', repr(v) + " is not one of 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'")
    return None


def _v_Syscall_args(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Syscall/properties/args of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_Syscall_args_items(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_Syscall(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Syscall of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'names' not in x:
        return ('', "'names' is a required property")
    if 'action' not in x:
        return ('', "'action' is a required property")
    v = x['names']
    r = _v_Syscall_names(v)
    if r is not None:
        return ('.names' + r[0], r[1])
    v = x['action']
    if type(v) is not str:
        return ('.action', 'must be a string, got ' + _got(v))
    if v not in _E9:
        return ('.action', repr(v) + " is not one of 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY'")
    v = x.get('errnoRet', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 4294967295:
            return ('.errnoRet', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    v = x.get('args', _NO)
    if v is not _NO:
        r = _v_Syscall_args(v)
        if r is not None:
            return ('.args' + r[0], r[1])
    return None


def _v_Seccomp_syscalls(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Seccomp/properties/syscalls of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        r = _v_Syscall(v)
        if r is not None:
            return ('[%d]' % i + r[0], r[1])
    return None


def _v_Seccomp(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Seccomp of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'defaultAction' not in x:
        return ('', "'defaultAction' is a required property")
    if 'listenerMetadata' in x and 'listenerPath' not in x:
        return ('', "'listenerPath' is required when 'listenerMetadata' is present")
    v = x['defaultAction']
    if type(v) is not str:
        return ('.defaultAction', 'must be a string, got ' + _got(v))
    if v not in _E9:
        return ('.defaultAction', repr(v) + " is not one of 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY'")
    v = x.get('defaultErrnoRet', _NO)
    if v is not _NO:
        if type(v) is not int or v < 0 or v > 4294967295:
            return ('.defaultErrnoRet', 'must be an integer between 0 and 4294967295, got ' + _got(v))
    v = x.get('architectures', _NO)
    if v is not _NO:
        r = _v_Seccomp_architectures(v)
        if r is not None:
            return ('.architectures' + r[0], r[1])
    v = x.get('flags', _NO)
    if v is not _NO:
        r = _v_Seccomp_flags(v)
        if r is not None:
            return ('.flags' + r[0], r[1])
    v = x.get('listenerPath', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.listenerPath', 'must be a string, got ' + _got(v))
    v = x.get('listenerMetadata', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.listenerMetadata', 'must be a string, got ' + _got(v))
    v = x.get('syscalls', _NO)
    if v is not _NO:
        r = _v_Seccomp_syscalls(v)
        if r is not None:
            return ('.syscalls' + r[0], r[1])
    return None


def _v_Linux_maskedPaths(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/maskedPaths of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        if type(v) is not str:
            return ('[%d]' % i, 'must be a string, got ' + _got(v))
        if not _is_absolute(v):
            return ('[%d]' % i, repr(v) + ' is not an absolute path')
    return None


def _v_Linux_readonlyPaths(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/readonlyPaths of the schema."""
    if type(x) is not list:
        return ('', 'must be an array, got ' + _got(x))
    for i, v in enumerate(x):
        if type(v) is not str:
            return ('[%d]' % i, 'must be a string, got ' + _got(v))
        if not _is_absolute(v):
            return ('[%d]' % i, repr(v) + ' is not an absolute path')
    return None


def _v_Linux_personality(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux/properties/personality of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'domain' not in x:
        return ('', "'domain' is a required property")
    v = x['domain']
    if type(v) is not str:
        return ('.domain', 'must be a string, got ' + _got(v))
    if v not in _E14:
        return ('.domain', repr(v) + " is not one of 'LINUX', 'LINUX32'")
    v = x.get('flags', _NO)
    if v is not _NO:
        r = _v_StringList(v)
        if r is not None:
            return ('.flags' + r[0], r[1])
    return None


def _v_Linux(x: object) -> "tuple[str, str] | None":
    """Check #/definitions/Linux of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    v = x.get('namespaces', _NO)
    if v is not _NO:
        r = _v_Linux_namespaces(v)
        if r is not None:
            return ('.namespaces' + r[0], r[1])
    v = x.get('uidMappings', _NO)
    if v is not _NO:
        r = _v_IDMappingList(v)
        if r is not None:
            return ('.uidMappings' + r[0], r[1])
    v = x.get('gidMappings', _NO)
    if v is not _NO:
        r = _v_IDMappingList(v)
        if r is not None:
            return ('.gidMappings' + r[0], r[1])
    v = x.get('timeOffsets', _NO)
    if v is not _NO:
        r = _v_Linux_timeOffsets(v)
        if r is not None:
            return ('.timeOffsets' + r[0], r[1])
    v = x.get('devices', _NO)
    if v is not _NO:
        r = _v_Linux_devices(v)
        if r is not None:
            return ('.devices' + r[0], r[1])
    v = x.get('netDevices', _NO)
    if v is not _NO:
        r = _v_Linux_netDevices(v)
        if r is not None:
            return ('.netDevices' + r[0], r[1])
    v = x.get('cgroupsPath', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.cgroupsPath', 'must be a string, got ' + _got(v))
    v = x.get('resources', _NO)
    if v is not _NO:
        r = _v_Resources(v)
        if r is not None:
            return ('.resources' + r[0], r[1])
    v = x.get('intelRdt', _NO)
    if v is not _NO:
        r = _v_Linux_intelRdt(v)
        if r is not None:
            return ('.intelRdt' + r[0], r[1])
    v = x.get('memoryPolicy', _NO)
    if v is not _NO:
        r = _v_Linux_memoryPolicy(v)
        if r is not None:
            return ('.memoryPolicy' + r[0], r[1])
    v = x.get('sysctl', _NO)
    if v is not _NO:
        r = _v_StringMap(v)
        if r is not None:
            return ('.sysctl' + r[0], r[1])
    v = x.get('seccomp', _NO)
    if v is not _NO:
        r = _v_Seccomp(v)
        if r is not None:
            return ('.seccomp' + r[0], r[1])
    v = x.get('rootfsPropagation', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.rootfsPropagation', 'must be a string, got ' + _got(v))
        if v not in _E13:
            return ('.rootfsPropagation', repr(v) + " is not one of 'shared', 'slave', 'private', 'unbindable', 'rshared', 'rslave', 'rprivate', 'runbindable'")
    v = x.get('maskedPaths', _NO)
    if v is not _NO:
        r = _v_Linux_maskedPaths(v)
        if r is not None:
            return ('.maskedPaths' + r[0], r[1])
    v = x.get('readonlyPaths', _NO)
    if v is not _NO:
        r = _v_Linux_readonlyPaths(v)
        if r is not None:
            return ('.readonlyPaths' + r[0], r[1])
    v = x.get('mountLabel', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.mountLabel', 'must be a string, got ' + _got(v))
    v = x.get('personality', _NO)
    if v is not _NO:
        r = _v_Linux_personality(v)
        if r is not None:
            return ('.personality' + r[0], r[1])
    return None


def _v_config(x: object) -> "tuple[str, str] | None":
    """Check # of the schema."""
    if type(x) is not dict:
        return ('', 'must be an object, got ' + _got(x))
    if 'ociVersion' not in x:
        return ('', "'ociVersion' is a required property")
    if 'root' not in x:
        return ('', "'root' is a required property")
    v = x['ociVersion']
    if type(v) is not str:
        return ('.ociVersion', 'must be a string, got ' + _got(v))
    if not _is_version_1(v):
        return ('.ociVersion', repr(v) + ' is not a SemVer 2.0.0 version of the form 1.x.y (ocirun implements runtime-spec 1.x)')
    v = x['root']
    r = _v_root(v)
    if r is not None:
        return ('.root' + r[0], r[1])
    v = x.get('mounts', _NO)
    if v is not _NO:
        r = _v_mounts(v)
        if r is not None:
            return ('.mounts' + r[0], r[1])
    v = x.get('process', _NO)
    if v is not _NO:
        r = _v_Process(v)
        if r is not None:
            return ('.process' + r[0], r[1])
    v = x.get('hostname', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.hostname', 'must be a string, got ' + _got(v))
    v = x.get('domainname', _NO)
    if v is not _NO:
        if type(v) is not str:
            return ('.domainname', 'must be a string, got ' + _got(v))
    v = x.get('hooks', _NO)
    if v is not _NO:
        r = _v_hooks(v)
        if r is not None:
            return ('.hooks' + r[0], r[1])
    v = x.get('annotations', _NO)
    if v is not _NO:
        r = _v_StringMap(v)
        if r is not None:
            return ('.annotations' + r[0], r[1])
    v = x.get('linux', _NO)
    if v is not _NO:
        r = _v_Linux(v)
        if r is not None:
            return ('.linux' + r[0], r[1])
    return None


_root = _v_config
