"""The guard of issue 15: no property of config.json is accepted and then dropped.

Every property of ocirun's config schema (ocirun/spec/config.schema.json, walked from the schema
itself, so that a new spec version's properties show up here) is either

- in COVERED, with the integration tests (``file::function`` under tests/integration) that set it
  and check that it is applied (from inside the container or on the host) or refused with one line
  naming its JSON path: each must exist and mention the property by name; or
- in OTHER_PLATFORMS, with the reason the spec gives for a Linux runtime to leave it alone.

A property in neither fails the test: give it an effect (or a refusal) and a test, then map it.
"""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "ocirun" / "spec" / "config.schema.json"
INTEGRATION = ROOT / "tests" / "integration"

OTHER_PLATFORMS = {
    "$.process.commandLine": "config.md: the full command line to be executed on Windows",
    "$.process.user.username": "config.md: the user name of the Windows user (\"Example (Windows)\")",
}

IDMAP_TESTS = ('test_userns::test_idmapped_mount', 'test_userns::test_idmapped_mount_without_a_user_namespace')

COVERED: dict[str, tuple[str, ...]] = {
    '$.ociVersion': ('test_lifecycle::test_features',),
    '$.root': ('test_cgroups::test_relative_cgroups_path_is_under_the_runtimes_own_cgroup',),
    '$.root.path': ('test_cves::test_mount_destination_symlink_out_of_the_rootfs',),
    '$.root.readonly': ('test_mounts::test_root_readonly',),
    '$.mounts': ('test_mounts::test_default_mounts',),
    '$.mounts[].destination': ('test_mounts::test_mount_creates_missing_destination',),
    '$.mounts[].source': ('test_mounts::test_bind_source_in_the_rootfs_sees_earlier_mounts',),
    '$.mounts[].options': ('test_mounts::test_default_mounts',),
    '$.mounts[].type': ('test_mounts::test_bind_mounted_dev_with_a_terminal',),
    '$.mounts[].uidMappings': IDMAP_TESTS,
    '$.mounts[].uidMappings[].containerID': IDMAP_TESTS,
    '$.mounts[].uidMappings[].hostID': IDMAP_TESTS,
    '$.mounts[].uidMappings[].size': IDMAP_TESTS,
    '$.mounts[].gidMappings': IDMAP_TESTS,
    '$.mounts[].gidMappings[].containerID': IDMAP_TESTS,
    '$.mounts[].gidMappings[].hostID': IDMAP_TESTS,
    '$.mounts[].gidMappings[].size': IDMAP_TESTS,
    '$.process': ('test_process::test_env_exact',),
    '$.process.terminal': ('test_terminal::test_console_socket_io',),
    '$.process.consoleSize': ('test_terminal::test_console_size',),
    '$.process.consoleSize.height': ('test_terminal::test_console_size',),
    '$.process.consoleSize.width': ('test_terminal::test_console_size',),
    '$.process.cwd': ('test_process::test_cwd',),
    '$.process.env': ('test_process::test_env_exact',),
    '$.process.args': ('test_namespaces::test_pid1_is_the_user_process',),
    '$.process.rlimits': ('test_process::test_rlimits',),
    '$.process.rlimits[].type': ('test_process::test_rlimits',),
    '$.process.rlimits[].soft': ('test_process::test_rlimits',),
    '$.process.rlimits[].hard': ('test_process::test_rlimits',),
    '$.process.apparmorProfile': ('test_security::test_apparmor_profile_without_apparmor',),
    '$.process.capabilities': ('test_process::test_nonroot_user_loses_caps_without_ambient',),
    '$.process.capabilities.effective': ('test_process::test_nonroot_user_loses_caps_without_ambient',),
    '$.process.capabilities.bounding': ('test_process::test_nonroot_user_loses_caps_without_ambient',),
    '$.process.capabilities.inheritable': ('test_process::test_nonroot_user_loses_caps_without_ambient',),
    '$.process.capabilities.permitted': ('test_process::test_nonroot_user_loses_caps_without_ambient',),
    '$.process.capabilities.ambient': ('test_process::test_nonroot_user_loses_caps_without_ambient',),
    '$.process.noNewPrivileges': ('test_process::test_no_new_privileges_false',),
    '$.process.oomScoreAdj': ('test_cves::test_oom_score_adj_never_written_into_the_image',),
    '$.process.scheduler': ('test_security::test_scheduler',),
    '$.process.scheduler.policy': ('test_security::test_scheduler',),
    '$.process.scheduler.nice': ('test_security::test_scheduler',),
    '$.process.scheduler.priority': ('test_security::test_scheduler_fifo',),
    '$.process.scheduler.flags': ('test_spec_fields::test_scheduler_flags',),
    '$.process.scheduler.runtime': ('test_spec_fields::test_scheduler_deadline_runtime_deadline_period',),
    '$.process.scheduler.deadline': ('test_spec_fields::test_scheduler_deadline_runtime_deadline_period',),
    '$.process.scheduler.period': ('test_spec_fields::test_scheduler_deadline_runtime_deadline_period',),
    '$.process.selinuxLabel': ('test_security::test_selinux_label_without_selinux',),
    '$.process.ioPriority': ('test_security::test_io_priority',),
    '$.process.ioPriority.class': ('test_security::test_io_priority',),
    '$.process.ioPriority.priority': ('test_security::test_io_priority',),
    '$.process.execCPUAffinity': ('test_spec_fields::test_exec_cpu_affinity',),
    '$.process.execCPUAffinity.initial': ('test_spec_fields::test_exec_cpu_affinity',),
    '$.process.execCPUAffinity.final': ('test_spec_fields::test_exec_cpu_affinity',),
    '$.process.user': ('test_process::test_home_from_passwd_when_unset',),
    '$.process.user.uid': ('test_process::test_home_from_passwd_when_unset',),
    '$.process.user.gid': ('test_process::test_home_from_passwd_when_unset',),
    '$.process.user.umask': ('test_process::test_umask',),
    '$.process.user.additionalGids': ('test_process::test_uid_gid',),
    '$.hostname': ('test_namespaces::test_hostname',),
    '$.domainname': ('test_namespaces::test_domainname',),
    '$.hooks': ('test_hooks::test_create_hooks_get_the_state',),
    '$.hooks.prestart': ('test_hooks::test_create_hooks_get_the_state',),
    '$.hooks.prestart[].path': ('test_hooks::test_create_hooks_get_the_state',),
    '$.hooks.prestart[].args': ('test_hooks::test_failing_prestart_fails_create_and_leaves_nothing',),
    '$.hooks.prestart[].env': ('test_hooks::test_hook_args_and_env',),
    '$.hooks.prestart[].timeout': ('test_hooks::test_hook_timeout',),
    '$.hooks.createRuntime': ('test_hooks::test_create_hooks_get_the_state',),
    '$.hooks.createRuntime[].path': ('test_hooks::test_create_hooks_get_the_state',),
    '$.hooks.createRuntime[].args': ('test_hooks::test_hook_timeout',),
    '$.hooks.createRuntime[].env': ('test_hooks::test_hook_args_and_env',),
    '$.hooks.createRuntime[].timeout': ('test_hooks::test_hook_timeout',),
    '$.hooks.createContainer': ('test_hooks::test_create_container_hook_gets_the_host_pid',),
    '$.hooks.createContainer[].path': ('test_hooks::test_failing_hook_error_names_it_with_status_and_output',),
    '$.hooks.createContainer[].args': ('test_hooks::test_failing_hook_error_names_it_with_status_and_output',),
    '$.hooks.createContainer[].env': ('test_hooks::test_hook_args_and_env',),
    '$.hooks.createContainer[].timeout': ('test_hooks::test_hook_timeout',),
    '$.hooks.startContainer': ('test_hooks::test_start_container_runs_inside_before_the_program',),
    '$.hooks.startContainer[].path': ('test_hooks::test_start_container_runs_inside_before_the_program',),
    '$.hooks.startContainer[].args': ('test_hooks::test_start_container_runs_inside_before_the_program',),
    '$.hooks.startContainer[].env': ('test_hooks::test_hook_args_and_env',),
    '$.hooks.startContainer[].timeout': ('test_hooks::test_hook_timeout',),
    '$.hooks.poststart': ('test_hooks::test_poststart_runs_at_start',),
    '$.hooks.poststart[].path': ('test_hooks::test_failing_poststart_fails_start_and_destroys_the_container',),
    '$.hooks.poststart[].args': ('test_hooks::test_failing_poststart_fails_start_and_destroys_the_container',),
    '$.hooks.poststart[].env': ('test_hooks::test_hook_args_and_env',),
    '$.hooks.poststart[].timeout': ('test_hooks::test_hook_timeout',),
    '$.hooks.poststop': ('test_hooks::test_poststop_runs_at_delete',),
    '$.hooks.poststop[].path': ('test_hooks::test_failing_poststop_does_not_fail_delete',),
    '$.hooks.poststop[].args': ('test_hooks::test_failing_poststop_does_not_fail_delete',),
    '$.hooks.poststop[].env': ('test_hooks::test_hook_args_and_env',),
    '$.hooks.poststop[].timeout': ('test_hooks::test_hook_timeout',),
    '$.annotations': ('test_lifecycle::test_state_has_annotations',),
    '$.linux': ('test_cgroups::test_device_rule_punching_a_hole_in_a_wildcard_is_refused',),
    '$.linux.namespaces': ('test_namespaces::test_no_namespace_shares_host',),
    '$.linux.namespaces[].type': ('test_namespaces::test_no_namespace_shares_host',),
    '$.linux.namespaces[].path': ('test_namespaces::test_join_namespace_by_path',),
    '$.linux.uidMappings': ('test_exec::test_exec_joins_every_namespace',),
    '$.linux.uidMappings[].containerID': ('test_exec::test_exec_joins_every_namespace',),
    '$.linux.uidMappings[].hostID': ('test_exec::test_exec_joins_every_namespace',),
    '$.linux.uidMappings[].size': ('test_exec::test_exec_joins_every_namespace',),
    '$.linux.gidMappings': ('test_exec::test_exec_joins_every_namespace',),
    '$.linux.gidMappings[].containerID': ('test_exec::test_exec_joins_every_namespace',),
    '$.linux.gidMappings[].hostID': ('test_exec::test_exec_joins_every_namespace',),
    '$.linux.gidMappings[].size': ('test_exec::test_exec_joins_every_namespace',),
    '$.linux.timeOffsets': ('test_namespaces::test_time_namespace_with_offsets',),
    '$.linux.timeOffsets.*.secs': ('test_namespaces::test_time_namespace_with_offsets',),
    '$.linux.timeOffsets.*.nanosecs': ('test_namespaces::test_time_namespace_with_offsets',),
    '$.linux.devices': ('test_mounts::test_configured_device_matching_an_existing_node',),
    '$.linux.devices[].type': ('test_mounts::test_configured_device_matching_an_existing_node',),
    '$.linux.devices[].path': ('test_mounts::test_configured_device_matching_an_existing_node',),
    '$.linux.devices[].major': ('test_mounts::test_configured_device_matching_an_existing_node',),
    '$.linux.devices[].minor': ('test_mounts::test_configured_device_matching_an_existing_node',),
    '$.linux.devices[].fileMode': ('test_mounts::test_configured_device_matching_an_existing_node',),
    '$.linux.devices[].uid': ('test_spec_fields::test_device_owner_and_mode',),
    '$.linux.devices[].gid': ('test_spec_fields::test_device_owner_and_mode',),
    '$.linux.netDevices':
        ('test_netdevices::test_net_device_moved_in_and_given_back', 'test_netdevices::test_net_device_errors'),
    '$.linux.netDevices.*.name':
        ('test_netdevices::test_net_device_moved_in_and_given_back', 'test_netdevices::test_net_device_errors'),
    '$.linux.cgroupsPath': ('test_cgroups::test_existing_parent_cpuset_without_cpus_is_filled_in',),
    '$.linux.resources': ('test_cgroups::test_device_rule_punching_a_hole_in_a_wildcard_is_refused',),
    '$.linux.resources.devices': ('test_cgroups::test_device_rule_punching_a_hole_in_a_wildcard_is_refused',),
    '$.linux.resources.devices[].allow': ('test_cgroups::test_default_device_rules',),
    '$.linux.resources.devices[].type': ('test_cgroups::test_device_rule_punching_a_hole_in_a_wildcard_is_refused',),
    '$.linux.resources.devices[].major': ('test_cgroups::test_device_rule_punching_a_hole_in_a_wildcard_is_refused',),
    '$.linux.resources.devices[].minor': ('test_cgroups::test_device_rule_punching_a_hole_in_a_wildcard_is_refused',),
    '$.linux.resources.devices[].access': ('test_cgroups::test_device_rule_punching_a_hole_in_a_wildcard_is_refused',),
    '$.linux.resources.memory': ('test_cgroups::test_memory_files',),
    '$.linux.resources.memory.limit': ('test_cgroups::test_memory_files',),
    '$.linux.resources.memory.reservation': ('test_cgroups::test_memory_files',),
    '$.linux.resources.memory.swap': ('test_cgroups::test_memory_files',),
    '$.linux.resources.memory.kernel': ('test_cgroups::test_memory_kernel_tcp',),
    '$.linux.resources.memory.kernelTCP': ('test_cgroups::test_memory_kernel_tcp',),
    '$.linux.resources.memory.swappiness': ('test_cgroups::test_memory_files',),
    '$.linux.resources.memory.disableOOMKiller': ('test_cgroups::test_memory_files',),
    '$.linux.resources.memory.useHierarchy': ('test_cgroups::test_memory_files',),
    '$.linux.resources.memory.checkBeforeUpdate':
        ('test_cgroups_v2::test_v2_check_before_update_refuses_a_limit_under_the_usage',),
    '$.linux.resources.cpu': ('test_cgroups::test_cpu_and_cpuset_files',),
    '$.linux.resources.cpu.shares': ('test_cgroups::test_cpu_and_cpuset_files',),
    '$.linux.resources.cpu.quota': ('test_cgroups::test_cpu_and_cpuset_files',),
    '$.linux.resources.cpu.burst': ('test_cgroups::test_cpu_burst_and_idle',),
    '$.linux.resources.cpu.period': ('test_cgroups::test_cpu_and_cpuset_files',),
    '$.linux.resources.cpu.realtimeRuntime': ('test_cgroups::test_cpu_realtime',),
    '$.linux.resources.cpu.realtimePeriod': ('test_cgroups::test_cpu_realtime',),
    '$.linux.resources.cpu.cpus': ('test_cgroups::test_cpu_and_cpuset_files',),
    '$.linux.resources.cpu.mems': ('test_cgroups::test_cpu_and_cpuset_files',),
    '$.linux.resources.cpu.idle': ('test_cgroups::test_cpu_burst_and_idle',),
    '$.linux.resources.blockIO': ('test_cgroups::test_blkio_weight',),
    '$.linux.resources.blockIO.weight': ('test_cgroups::test_blkio_weight',),
    '$.linux.resources.blockIO.leafWeight': ('test_cgroups::test_blkio_leaf_weight_without_cfq_is_an_error',),
    '$.linux.resources.blockIO.weightDevice': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.weightDevice[].major': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.weightDevice[].minor': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.weightDevice[].weight': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.weightDevice[].leafWeight':
        ('test_cgroups::test_blkio_leaf_weight_without_cfq_is_an_error',),
    '$.linux.resources.blockIO.throttleReadBpsDevice': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleReadBpsDevice[].major': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleReadBpsDevice[].minor': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleReadBpsDevice[].rate': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleWriteBpsDevice': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleWriteBpsDevice[].major':
        ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleWriteBpsDevice[].minor':
        ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleWriteBpsDevice[].rate': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleReadIOPSDevice': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleReadIOPSDevice[].major':
        ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleReadIOPSDevice[].minor':
        ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleReadIOPSDevice[].rate': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleWriteIOPSDevice': ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleWriteIOPSDevice[].major':
        ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleWriteIOPSDevice[].minor':
        ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.blockIO.throttleWriteIOPSDevice[].rate':
        ('test_cgroups::test_blkio_throttle_and_weight_device',),
    '$.linux.resources.hugepageLimits': ('test_cgroups::test_hugepage_limits_on_hybrid',),
    '$.linux.resources.hugepageLimits[].pageSize': ('test_cgroups::test_hugepage_limits_on_hybrid',),
    '$.linux.resources.hugepageLimits[].limit': ('test_cgroups::test_hugepage_limits_on_hybrid',),
    '$.linux.resources.network': ('test_cgroups::test_network_class_id_without_net_cls_is_an_error',),
    '$.linux.resources.network.classID': ('test_cgroups::test_network_class_id_without_net_cls_is_an_error',),
    '$.linux.resources.network.priorities': ('test_cgroups::test_network_priorities_without_net_prio_is_an_error',),
    '$.linux.resources.network.priorities[].name':
        ('test_cgroups::test_network_priorities_without_net_prio_is_an_error',),
    '$.linux.resources.network.priorities[].priority':
        ('test_cgroups::test_network_priorities_without_net_prio_is_an_error',),
    '$.linux.resources.pids': ('test_cgroups::test_pids_limit_makes_fork_fail',),
    '$.linux.resources.pids.limit': ('test_cgroups::test_pids_limit_makes_fork_fail',),
    '$.linux.resources.rdma': ('test_cgroups::test_rdma_without_the_controller_is_an_error',),
    '$.linux.resources.rdma.*.hcaHandles': ('test_cgroups::test_rdma_without_the_controller_is_an_error',),
    '$.linux.resources.rdma.*.hcaObjects': ('test_cgroups::test_rdma_without_the_controller_is_an_error',),
    '$.linux.resources.unified': ('test_cgroups::test_unified_on_hybrid_goes_to_the_cgroup2_hierarchy',),
    '$.linux.intelRdt': ('test_spec_fields::test_intel_rdt_without_resctrl_is_refused',),
    '$.linux.intelRdt.closID': ('test_spec_fields::test_intel_rdt_without_resctrl_is_refused',),
    '$.linux.intelRdt.l3CacheSchema': ('test_spec_fields::test_intel_rdt_without_resctrl_is_refused',),
    '$.linux.intelRdt.memBwSchema': ('test_spec_fields::test_intel_rdt_without_resctrl_is_refused',),
    '$.linux.intelRdt.schemata': ('test_spec_fields::test_intel_rdt_without_resctrl_is_refused',),
    '$.linux.intelRdt.enableMonitoring': ('test_spec_fields::test_intel_rdt_without_resctrl_is_refused',),
    '$.linux.memoryPolicy': ('test_memory_policy::test_policy_seen_from_inside', 'test_memory_policy::test_refused'),
    '$.linux.memoryPolicy.mode':
        ('test_memory_policy::test_policy_seen_from_inside', 'test_memory_policy::test_refused'),
    '$.linux.memoryPolicy.nodes':
        ('test_memory_policy::test_policy_seen_from_inside', 'test_memory_policy::test_refused'),
    '$.linux.memoryPolicy.flags':
        ('test_memory_policy::test_policy_seen_from_inside', 'test_memory_policy::test_refused'),
    '$.linux.sysctl': ('test_security::test_namespaced_sysctls_apply_inside_only',),
    '$.linux.seccomp': ('test_seccomp::test_the_default_profile_of_ocirun_spec',),
    '$.linux.seccomp.defaultAction': ('test_seccomp::test_notify_as_default_action_is_an_error',),
    '$.linux.seccomp.defaultErrnoRet': ('test_seccomp::test_default_errno_ret',),
    '$.linux.seccomp.architectures': ('test_seccomp::test_architectures',),
    '$.linux.seccomp.flags': ('test_seccomp::test_flags',),
    '$.linux.seccomp.listenerPath': ('test_seccomp::test_notify_sends_the_listener_and_the_state',),
    '$.linux.seccomp.listenerMetadata': ('test_seccomp::test_notify_sends_the_listener_and_the_state',),
    '$.linux.seccomp.syscalls': ('test_seccomp::test_errno_ret_on_an_action_without_errno_is_an_error',),
    '$.linux.seccomp.syscalls[].names': ('test_exec::test_exec_gets_the_containers_seccomp_filter',),
    '$.linux.seccomp.syscalls[].action': ('test_seccomp::test_errno_ret_on_an_action_without_errno_is_an_error',),
    '$.linux.seccomp.syscalls[].errnoRet': ('test_seccomp::test_errno_ret_on_an_action_without_errno_is_an_error',),
    '$.linux.seccomp.syscalls[].args': ('test_seccomp::test_argument_operators',),
    '$.linux.seccomp.syscalls[].args[].index': ('test_seccomp::test_argument_operators',),
    '$.linux.seccomp.syscalls[].args[].value': ('test_seccomp::test_argument_operators',),
    '$.linux.seccomp.syscalls[].args[].valueTwo': ('test_seccomp::test_argument_operators',),
    '$.linux.seccomp.syscalls[].args[].op': ('test_seccomp::test_argument_operators',),
    '$.linux.rootfsPropagation': ('test_mounts::test_rootfs_propagation_unbindable',),
    '$.linux.maskedPaths': ('test_mounts::test_masked_and_readonly_paths',),
    '$.linux.readonlyPaths': ('test_mounts::test_masked_and_readonly_paths',),
    '$.linux.mountLabel': ('test_security::test_mount_label_without_selinux',),
    '$.linux.personality': ('test_security::test_personality_linux32',),
    '$.linux.personality.domain': ('test_security::test_personality_linux32',),
    '$.linux.personality.flags': ('test_spec_fields::test_personality_flags_are_refused',),
}


def schema_paths() -> list[str]:
    """Every property of the schema as a JSON path: ``[]`` for the items of an array, ``*`` for the
    values of a map (a $ref is followed once per path: no recursion)."""
    schema = json.loads(SCHEMA.read_text())
    defs = schema.get("definitions", {})
    out: list[str] = []

    def walk(node: dict[str, Any], path: str, seen: frozenset[str]) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(defs[name], path, seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key, ()):
                walk(sub, path, seen)
        if isinstance(node.get("items"), dict):
            walk(node["items"], path + "[]", seen)
        for name, sub in (node.get("properties") or {}).items():
            out.append(f"{path}.{name}")
            walk(sub, f"{path}.{name}", seen)
        for sub in [node.get("additionalProperties"), *(node.get("patternProperties") or {}).values()]:
            if isinstance(sub, dict):
                walk(sub, path + ".*", seen)

    walk(schema, "$", frozenset())
    return out


def _functions(tree: ast.Module, lines: list[str]) -> dict[str, str]:
    """Every function and method of a module by name, with its decorators (the last of a name)."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            out[node.name] = "\n".join(lines[start - 1 : node.end_lineno])
    return out


@cache
def integration_tests() -> dict[str, str]:
    """``file::function`` -> the source that sets up that test under tests/integration: the test
    with its decorators, the module's constants, and the helpers it calls (of its module and of
    support.py, one level), where a property is often set (``Bundle.set_args`` sets the args)."""
    support_text = (INTEGRATION / "support.py").read_text()
    support = _functions(ast.parse(support_text), support_text.splitlines())
    out = {}
    for path in sorted(INTEGRATION.glob("test_*.py")):
        text = path.read_text()
        lines = text.splitlines()
        tree = ast.parse(text)
        helpers = {**support, **_functions(tree, lines)}
        constants = "\n".join(ast.get_source_segment(text, node) or "" for node in tree.body
                              if isinstance(node, (ast.Assign, ast.AnnAssign)))
        for name, body in _functions(tree, lines).items():
            if not name.startswith("test_"):
                continue
            node = next(n for n in ast.walk(ast.parse(body)) if isinstance(n, ast.FunctionDef))
            called = {c.func.id if isinstance(c.func, ast.Name) else c.func.attr for c in ast.walk(node)
                      if isinstance(c, ast.Call) and isinstance(c.func, (ast.Name, ast.Attribute))}
            used = "\n".join(helpers[c] for c in sorted(called) if c in helpers and not c.startswith("test_"))
            out[f"{path.stem}::{name}"] = "\n".join((body, constants, used))
    return out


def _names(path: str) -> list[str]:
    return [p for p in re.split(r"[.\[\]*$]+", path) if p]


def test_every_property_of_the_schema_is_applied_or_refused() -> None:
    paths = schema_paths()
    assert len(paths) > 200  # the walk reaches the whole schema
    unmapped = [p for p in paths if p not in COVERED and p not in OTHER_PLATFORMS]
    assert not unmapped, (f"properties of config.schema.json with no test that they are applied or refused: "
                          f"{unmapped}; give each an effect (or a refusal naming its JSON path), a test, and "
                          f"map it in COVERED")
    stale = sorted(set(COVERED) - set(paths))
    assert not stale, f"COVERED names properties the schema does not have: {stale}"
    assert not set(COVERED) & set(OTHER_PLATFORMS)


def test_covering_tests_exist_and_set_the_property() -> None:
    tests = integration_tests()
    problems = []
    for path, names in COVERED.items():
        if not names:
            problems.append(f"{path}: no test")
        key = _names(path)[-1]
        for name in names:
            body = tests.get(name)
            if body is None:
                problems.append(f"{path}: {name} does not exist")
            elif not re.search(rf"(?<![A-Za-z0-9_]){re.escape(key)}(?![A-Za-z0-9_])", body):
                problems.append(f"{path}: {name} does not mention {key!r}")
    assert not problems, "\n".join(problems)


def test_the_guard_catches_a_new_property(tmp_path: Path, monkeypatch: Any) -> None:
    """A property added to the schema (say by a new spec version) and mapped nowhere fails it."""
    schema = json.loads(SCHEMA.read_text())
    schema["definitions"]["Linux"]["properties"]["newThing"] = {"type": "string"}
    fake = tmp_path / "config.schema.json"
    fake.write_text(json.dumps(schema))
    monkeypatch.setitem(globals(), "SCHEMA", fake)
    assert "$.linux.newThing" in schema_paths()
    try:
        test_every_property_of_the_schema_is_applied_or_refused()
    except AssertionError as e:
        assert "$.linux.newThing" in str(e)
    else:
        raise AssertionError("the guard let an unmapped property through")
