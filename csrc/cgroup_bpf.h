/* cgroup_bpf.h: the cgroup v2 device filter (an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE).
 * This file is also the cffi cdef (ocirun/_shim_build.py reads it): plain declarations only.
 * ocirun/cgroups/devices.py assembles the program; these functions load and attach it. */

int ocirun_bpf_dev_attach(int cgroup_fd, const unsigned char *insns, int insn_count,
                          char *log_buf, unsigned int log_size);
int ocirun_bpf_dev_query(int cgroup_fd, unsigned int *ids, unsigned int max_ids);
