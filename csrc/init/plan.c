/* plan.c: reading the launch plan (ocirun.h: a header, then the ops one after the other).
 * Needs nothing from the includer.  The arguments of an op are read through the accessors
 * generated from ocirun/protocol.py (ocirun_ops.h, <op>_<field>), its strings through op_str(). */

/* The plan's header when `mem` (`size` bytes) is a plan of this ABI, else 0. */
static const struct ocirun_plan_hdr *plan_header(const void *mem, long size)
{
    const struct ocirun_plan_hdr *hdr = mem;
    if (size < (long)sizeof *hdr || hdr->magic != OCIRUN_PLAN_MAGIC || hdr->abi != OCIRUN_ABI_VERSION ||
        hdr->size != (u32)size)
        return 0;
    return hdr;
}

/* The op at *pos, which is moved past it; 0 when it would not end before `end`. */
static const struct ocirun_op *plan_next(const char **pos, const char *end)
{
    const struct ocirun_op *op = (const void *)*pos;
    if (*pos + sizeof *op > end || op->size < sizeof *op || *pos + op->size > end)
        return 0;
    *pos += op->size;
    return op;
}

/* The i-th NUL-terminated string of the op's payload ("" past its end). */
static const char *op_str(const struct ocirun_op *op, int i)
{
    const char *p = (const char *)(op + 1);
    const char *end = (const char *)op + op->size;
    while (i-- > 0) {
        while (p < end && *p)
            p++;
        p++;
    }
    return p < end ? p : "";
}

static const char *nonempty(const char *s)
{
    return *s ? s : 0;
}
