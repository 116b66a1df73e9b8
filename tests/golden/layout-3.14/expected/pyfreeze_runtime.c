/* pyfreeze runtime for a stock (unpatched) libpython. Copied verbatim into every output
 * folder by `pyfreeze freeze`; compiled against the target interpreter's headers.
 *
 * pyfreeze_install(), called before Py_Initialize():
 *   1. points PyImport_FrozenModules at the stock table, so even the modules imported while
 *      the interpreter initialises (codecs, encodings, io, ...) come from memory;
 *   2. registers an audit hook. At the first "import" event of initialisation (importlib is
 *      set up by then, the file-system importers are not yet) it creates the `_pyfreeze`
 *      module over the extended table and runs `_pyfreeze_runtime.install()`, which puts a
 *      finder in front of FrozenImporter. From then on every frozen module gets its real
 *      origin as __file__, __path__, get_source(), package data, and a path hook.
 * Called after Py_Initialize(), it activates at once and repairs modules already loaded
 * (those imported during initialisation came from disk, so call it before when you can).
 * Py_Finalize() drops the hook: call it again before the next Py_Initialize().
 *
 * The runtime module is `_pyfreeze_runtime`; a program linking a libpython built by pyfreeze,
 * which carries a `_pyfreeze_runtime` of its own, gets another name (defined above this
 * comment by the generator), so that each table keeps its own runtime state.
 */
#ifndef PYFREEZE_RUNTIME_MODULE
#define PYFREEZE_RUNTIME_MODULE "_pyfreeze_runtime"
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pyfreeze.h"

#if PY_MAJOR_VERSION != PYFREEZE_TARGET_MAJOR || PY_MINOR_VERSION != PYFREEZE_TARGET_MINOR
/* Names both versions (#error does not expand macros), then skips the rest of the file,
 * which could only add errors about struct layouts. */
#pragma message("pyfreeze: the tables are for CPython " PYFREEZE_TARGET_VERSION ", but Python.h is CPython " PY_VERSION)
#error "pyfreeze: regenerate the tables with the interpreter whose Python.h you compile against, or compile against the target's headers (`pythonX.Y-config --includes`)"
#else

/* The generated mirror of `struct _frozen` must match the real one exactly. */
#define PYFREEZE_SAME_FIELD(f)                                                          \
    _Static_assert(offsetof(struct pyfreeze_frozen, f) == offsetof(struct _frozen, f) && \
                       sizeof(((struct pyfreeze_frozen *)0)->f) == sizeof(((struct _frozen *)0)->f), \
                   "struct pyfreeze_frozen." #f " does not match struct _frozen")
_Static_assert(sizeof(struct pyfreeze_frozen) == sizeof(struct _frozen),
               "struct pyfreeze_frozen does not match struct _frozen");
PYFREEZE_SAME_FIELD(name);
PYFREEZE_SAME_FIELD(code);
PYFREEZE_SAME_FIELD(size);
#if PY_VERSION_HEX >= 0x030B0000
PYFREEZE_SAME_FIELD(is_package);
#endif
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030D0000
PYFREEZE_SAME_FIELD(get_code);
#endif

static int compare_module(const void *key, const void *row)
{
    return strcmp((const char *)key, ((const struct pyfreeze_module *)row)->name);
}

const struct pyfreeze_module *pyfreeze_find(const char *name)
{
    return bsearch(name, pyfreeze_modules, pyfreeze_modules_count, sizeof(struct pyfreeze_module),
                   compare_module);
}

/* -- Packs (docs/table-format.md#packs) -------------------------------------------------------
 * A pack is checked once, when it is opened, as pyfreeze_gen::pack::Pack::open does: the
 * header, where each table lies, every row's strings (inside the string area, NUL-terminated)
 * and blobs (inside the blob area), ranges of rows, order, flags, and the index's CRC-32C. The
 * accessors below then only index. A module's bytes are checked against their CRC-32C the first
 * time they are used, a data file's each time it is read. Packs stay mapped until the process
 * ends (code objects, memoryviews and the runtime's tables point into them). */

static uint32_t pf_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* CRC-32C (Castagnoli): a module's code is checked at its first import, so this is on the
 * import path: with SSE 4.2's crc32 instruction where the CPU has it (a fraction of an
 * instruction per byte), else eight bytes a step through tables ("slicing-by-8"). */
#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t pf_crc32_sse42(uint32_t crc, const unsigned char *p, size_t n)
{
    uint64_t c = ~crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return ~c32;
}
#endif

static uint32_t pf_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
#if defined(__GNUC__) && defined(__x86_64__)
    static int sse42 = -1;
    if (sse42 < 0) {
        __builtin_cpu_init();
        sse42 = __builtin_cpu_supports("sse4.2") != 0;
    }
    if (sse42)
        return pf_crc32_sse42(crc, p, n);
#endif
    static uint32_t t[8][256];
    if (t[0][1] == 0) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            t[0][i] = c;
        }
        for (uint32_t i = 0; i < 256; i++)
            for (int k = 1; k < 8; k++)
                t[k][i] = t[0][t[k - 1][i] & 0xff] ^ (t[k - 1][i] >> 8);
    }
    crc = ~crc;
    while (n >= 8) {
        uint32_t lo = crc ^ pf_u32(p), hi = pf_u32(p + 4);
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
              t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

struct pf_pack {
    char *name;                 /* its path, or the name given with its memory */
    const unsigned char *bytes;
    size_t size;
    int mapped;                 /* a file: dev, ino, mtime say which version of it */
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    uint32_t counts[4], offsets[4]; /* modules, resources, distributions, dist files */
    uint64_t strings, blobs;    /* the string area starts at strings, the blob area at blobs */
    unsigned char *checked;     /* per module: PF_CODE_OK, PF_SOURCE_OK once they matched their CRC-32C */
};

enum { PF_MODULES, PF_RESOURCES, PF_DISTS, PF_DIST_FILES };
enum { PF_CODE_OK = 1, PF_SOURCE_OK = 2 };
static const size_t pf_row_size[4] = {PYFREEZE_PACK_MODULE_SIZE, PYFREEZE_PACK_RESOURCE_SIZE,
                                      PYFREEZE_PACK_DISTRIBUTION_SIZE, PYFREEZE_PACK_DIST_FILE_SIZE};

static const unsigned char *pf_row(const struct pf_pack *p, int table, uint32_t i)
{
    return p->bytes + p->offsets[table] + (size_t)i * pf_row_size[table];
}

/* The string at `at` in a row (its offset, then its size): NULL when out of place. */
static const char *pf_string(const struct pf_pack *p, const unsigned char *field)
{
    uint64_t at = pf_u32(field), size = pf_u32(field + 4);
    if (at < p->strings || at + size >= p->blobs || p->bytes[at + size] != 0)
        return NULL;
    return (const char *)p->bytes + at;
}

/* Whether the NUL-terminated `s` is UTF-8 as Python decodes it strictly (no overlong forms,
 * no surrogates, nothing above U+10FFFF). */
static int pf_utf8(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        unsigned c = *s++;
        int more;
        unsigned min, cp;
        if (c < 0x80)
            continue;
        else if ((c & 0xe0) == 0xc0)
            more = 1, min = 0x80, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0)
            more = 2, min = 0x800, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0)
            more = 3, min = 0x10000, cp = c & 0x07;
        else
            return 0;
        while (more--) {
            if ((*s & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (*s++ & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
    }
    return 1;
}

/* A string field that pf_pack_check() accepts: in the string area, NUL-terminated, UTF-8. */
static const char *pf_checked_string(const struct pf_pack *p, const unsigned char *field)
{
    const char *s = pf_string(p, field);
    /* No NUL inside: the size counts every byte up to the terminating one. */
    return s != NULL && strlen(s) == pf_u32(field + 4) && pf_utf8(s) ? s : NULL;
}

/* The blob at `field` (offset, size); NULL when out of place (an empty one is never NULL). */
static const unsigned char *pf_blob(const struct pf_pack *p, const unsigned char *field)
{
    uint64_t at = pf_u32(field), size = pf_u32(field + 4);
    if (at < p->blobs || at + size > p->size)
        return NULL;
    return p->bytes + at;
}

/* Checks rows [start, start + count) of the package data or distribution file table (the
 * same fields): each path a string, sorted, each file's bytes in the blob area. */
static int pf_check_files(const struct pf_pack *p, int table, uint64_t start, uint64_t count,
                          char *why, size_t n)
{
    const char *previous = NULL;
    for (uint64_t i = start; i < start + count; i++) {
        const unsigned char *row = pf_row(p, table, (uint32_t)i);
        const char *path = pf_checked_string(p, row + PYFREEZE_PACK_RESOURCE_PATH_AT);
        if (path == NULL || pf_blob(p, row + PYFREEZE_PACK_RESOURCE_DATA_AT) == NULL ||
            pf_u32(row + PYFREEZE_PACK_RESOURCE_RESERVED_AT) != 0 ||
            (previous != NULL && strcmp(previous, path) >= 0)) {
            snprintf(why, n, "corrupt: %s row %u",
                     table == PF_RESOURCES ? "package data" : "distribution file", (unsigned)i);
            return -1;
        }
        previous = path;
    }
    return 0;
}

/* Checks the pack; 0, or -1 with the reason in `why`. */
static int pf_pack_check(struct pf_pack *p, char *why, size_t n)
{
    const unsigned char *b = p->bytes;
    if (p->size < 8 || memcmp(b, PYFREEZE_PACK_MAGIC, 8) != 0) {
        snprintf(why, n, "not a pyfreeze pack (no PYFZ signature)");
        return -1;
    }
    if (p->size < 16) {
        snprintf(why, n, "truncated: %zu bytes", p->size);
        return -1;
    }
    uint32_t version = pf_u32(b + PYFREEZE_PACK_HEADER_FORMAT_VERSION_AT);
    if (version != PYFREEZE_PACK_FORMAT_VERSION) {
        snprintf(why, n, "pack format version %u; this program reads version %u: write the pack "
                 "again with the pyfreeze that made the program", version, PYFREEZE_PACK_FORMAT_VERSION);
        return -1;
    }
    if (p->size < PYFREEZE_PACK_HEADER_SIZE) {
        snprintf(why, n, "truncated: %zu bytes, shorter than its header", p->size);
        return -1;
    }
    uint32_t file_size = pf_u32(b + PYFREEZE_PACK_HEADER_FILE_SIZE_AT);
    if (file_size != p->size) {
        snprintf(why, n, file_size > p->size ? "truncated: %zu bytes where the header says %u"
                                             : "corrupt: %zu bytes where the header says %u",
                 p->size, file_size);
        return -1;
    }
    if (pf_u32(b + PYFREEZE_PACK_HEADER_HEADER_SIZE_AT) != PYFREEZE_PACK_HEADER_SIZE) {
        snprintf(why, n, "corrupt: a header size of %u", pf_u32(b + PYFREEZE_PACK_HEADER_HEADER_SIZE_AT));
        return -1;
    }
    uint32_t magic = pf_u32(b + PYFREEZE_PACK_HEADER_BYTECODE_MAGIC_AT);
    if ((magic >> 16) != 0x0a0d) {
        snprintf(why, n, "corrupt: the bytecode magic does not end with CR LF");
        return -1;
    }
    if ((magic & 0xffff) != PYFREEZE_TARGET_MAGIC) {
        snprintf(why, n, "its bytecode is for another CPython (magic number %u, this program's "
                 "CPython %s has %u): write it with `pyfreeze pack --python` of CPython %s",
                 magic & 0xffff, PYFREEZE_TARGET_VERSION, PYFREEZE_TARGET_MAGIC, PYFREEZE_TARGET_VERSION);
        return -1;
    }
    if (pf_u32(b + PYFREEZE_PACK_HEADER_FLAGS_AT) != 0 || pf_u32(b + PYFREEZE_PACK_HEADER_RESERVED_AT) != 0) {
        snprintf(why, n, "corrupt: unknown header flags");
        return -1;
    }
    p->strings = pf_u32(b + PYFREEZE_PACK_HEADER_STRINGS_OFFSET_AT);
    p->blobs = p->strings + pf_u32(b + PYFREEZE_PACK_HEADER_STRINGS_SIZE_AT);
    if (p->strings < PYFREEZE_PACK_HEADER_SIZE || p->blobs > p->size) {
        snprintf(why, n, "corrupt: the string area is outside the file");
        return -1;
    }
    static const size_t count_at[4] = {PYFREEZE_PACK_HEADER_MODULE_COUNT_AT, PYFREEZE_PACK_HEADER_RESOURCE_COUNT_AT,
                                       PYFREEZE_PACK_HEADER_DISTRIBUTION_COUNT_AT, PYFREEZE_PACK_HEADER_DIST_FILE_COUNT_AT};
    static const size_t offset_at[4] = {PYFREEZE_PACK_HEADER_MODULES_OFFSET_AT, PYFREEZE_PACK_HEADER_RESOURCES_OFFSET_AT,
                                        PYFREEZE_PACK_HEADER_DISTRIBUTIONS_OFFSET_AT, PYFREEZE_PACK_HEADER_DIST_FILES_OFFSET_AT};
    static const char *const table_name[4] = {"module", "package data", "distribution", "distribution file"};
    for (int t = 0; t < 4; t++) {
        p->counts[t] = pf_u32(b + count_at[t]);
        p->offsets[t] = pf_u32(b + offset_at[t]);
        uint64_t end = (uint64_t)p->offsets[t] + (uint64_t)p->counts[t] * pf_row_size[t];
        if (p->offsets[t] % 8 != 0 || p->offsets[t] < PYFREEZE_PACK_HEADER_SIZE || end > p->strings) {
            snprintf(why, n, "corrupt: the %s table is outside the index", table_name[t]);
            return -1;
        }
    }
    uint32_t crc = pf_crc32(0, b + PYFREEZE_PACK_HEADER_SIZE, (size_t)(p->blobs - PYFREEZE_PACK_HEADER_SIZE));
    if (crc != pf_u32(b + PYFREEZE_PACK_HEADER_INDEX_CRC32_AT)) {
        snprintf(why, n, "checksum mismatch: the index has CRC-32C %#010x, the header says %#010x",
                 crc, pf_u32(b + PYFREEZE_PACK_HEADER_INDEX_CRC32_AT));
        return -1;
    }
    /* Every row. */
    const uint32_t known = PYFREEZE_PACKAGE | PYFREEZE_NAMESPACE | PYFREEZE_SOURCE_DEFLATE;
    const char *previous = NULL;
    uint32_t covered = 0;
    for (uint32_t i = 0; i < p->counts[PF_MODULES]; i++) {
        const unsigned char *row = pf_row(p, PF_MODULES, i);
        const char *name = pf_checked_string(p, row + PYFREEZE_PACK_MODULE_NAME_AT);
        if (name == NULL || pf_checked_string(p, row + PYFREEZE_PACK_MODULE_ORIGIN_AT) == NULL ||
            pf_blob(p, row + PYFREEZE_PACK_MODULE_CODE_AT) == NULL ||
            pf_blob(p, row + PYFREEZE_PACK_MODULE_SOURCE_AT) == NULL) {
            snprintf(why, n, "corrupt: module row %u points outside its area", i);
            return -1;
        }
        if (previous != NULL && strcmp(previous, name) >= 0) {
            snprintf(why, n, "corrupt: module rows are not sorted by name (%.100s)", name);
            return -1;
        }
        previous = name;
        uint32_t flags = pf_u32(row + PYFREEZE_PACK_MODULE_FLAGS_AT);
        if ((flags & ~known) || ((flags & PYFREEZE_NAMESPACE) && !(flags & PYFREEZE_PACKAGE)) ||
            ((flags & PYFREEZE_SOURCE_DEFLATE) && pf_u32(row + PYFREEZE_PACK_MODULE_SOURCE_SIZE_AT) < 4)) {
            snprintf(why, n, "corrupt: module %.100s has flags %#x", name, flags);
            return -1;
        }
        uint64_t start = pf_u32(row + PYFREEZE_PACK_MODULE_RESOURCES_START_AT);
        uint64_t count = pf_u32(row + PYFREEZE_PACK_MODULE_RESOURCES_COUNT_AT);
        if (start + count > p->counts[PF_RESOURCES] || (count && start != covered) ||
            pf_u32(row + PYFREEZE_PACK_MODULE_RESERVED_AT) != 0) {
            snprintf(why, n, "corrupt: module %.100s's package data rows are out of place", name);
            return -1;
        }
        if (pf_check_files(p, PF_RESOURCES, start, count, why, n) < 0)
            return -1;
        if (count)
            covered = (uint32_t)(start + count);
    }
    if (covered != p->counts[PF_RESOURCES]) {
        snprintf(why, n, "corrupt: package data rows outside any package");
        return -1;
    }
    previous = NULL;
    covered = 0;
    for (uint32_t i = 0; i < p->counts[PF_DISTS]; i++) {
        const unsigned char *row = pf_row(p, PF_DISTS, i);
        const char *name = pf_checked_string(p, row + PYFREEZE_PACK_DISTRIBUTION_NAME_AT);
        uint64_t start = pf_u32(row + PYFREEZE_PACK_DISTRIBUTION_FILES_START_AT);
        uint64_t count = pf_u32(row + PYFREEZE_PACK_DISTRIBUTION_FILES_COUNT_AT);
        if (name == NULL || pf_checked_string(p, row + PYFREEZE_PACK_DISTRIBUTION_ORIGIN_AT) == NULL ||
            (previous != NULL && strcmp(previous, name) >= 0) || start != covered ||
            start + count > p->counts[PF_DIST_FILES]) {
            snprintf(why, n, "corrupt: distribution row %u", i);
            return -1;
        }
        previous = name;
        if (pf_check_files(p, PF_DIST_FILES, start, count, why, n) < 0)
            return -1;
        covered = (uint32_t)(start + count);
    }
    if (covered != p->counts[PF_DIST_FILES]) {
        snprintf(why, n, "corrupt: distribution file rows outside any distribution");
        return -1;
    }
    p->checked = calloc(p->counts[PF_MODULES] ? p->counts[PF_MODULES] : 1, 1);
    if (p->checked == NULL) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    return 0;
}

/* Every pack opened, by handle - 1 (handle 0 is the linked table); the packs added with the
 * C API, in the order added. Readers index pf_packs without a lock (pf_pack_at): a pack, once
 * registered, stays at its handle for the life of the process, a grown array leaves the old
 * one in place (at most as many bytes again), and pf_append publishes the filled array, then
 * the count, with release stores that pf_pack_at's acquire loads pair with, so a reader that
 * sees a handle sees its pack. Writers hold pf_lock. */
static struct pf_pack **pf_packs;
static uint32_t pf_npacks, pf_capacity;
static uint32_t *pf_front;
static uint32_t pf_nfront;
static _Thread_local char pf_last_error[1024]; /* as errno: each thread's own last error */

#if PY_VERSION_HEX >= 0x030D0000
/* 3.13's isolated sub-interpreters run with GILs of their own, and in a patched CPython each
 * may open packs from its sys.path. Before 3.13 the packs are the main interpreter's (stock
 * runtime) or share its GIL (a patched 3.11). */
static PyMutex pf_mutex;
static void pf_lock(void) { PyMutex_Lock(&pf_mutex); }
static void pf_unlock(void) { PyMutex_Unlock(&pf_mutex); }
#else
static void pf_lock(void) {}
static void pf_unlock(void) {}
#endif

const char *pyfreeze_pack_error(void)
{
    return pf_last_error;
}

/* Appends a checked pack to the registry: its handle, or 0 (out of memory). */
static uint32_t pf_append(struct pf_pack *p)
{
    uint32_t handle = 0;
    pf_lock();
    struct pf_pack **packs = pf_packs;
    if (pf_npacks == pf_capacity) {
        uint32_t capacity = pf_capacity ? 2 * pf_capacity : 8;
        packs = calloc(capacity, sizeof *packs);
        if (packs == NULL)
            goto done;
        if (pf_npacks)
            memcpy(packs, pf_packs, pf_npacks * sizeof *packs);
        pf_capacity = capacity;
    }
    packs[pf_npacks] = p;
    /* the old array stays valid for readers (see above) */
    __atomic_store_n(&pf_packs, packs, __ATOMIC_RELEASE);
    handle = pf_npacks + 1;
    __atomic_store_n(&pf_npacks, handle, __ATOMIC_RELEASE);
done:
    pf_unlock();
    return handle;
}

/* The pack of `handle` (1...), or NULL when no such pack was registered. */
static struct pf_pack *pf_pack_at(unsigned long handle)
{
    uint32_t n = __atomic_load_n(&pf_npacks, __ATOMIC_ACQUIRE);
    struct pf_pack **packs = __atomic_load_n(&pf_packs, __ATOMIC_ACQUIRE);
    return handle >= 1 && handle <= n ? packs[handle - 1] : NULL;
}

/* Checks and registers a pack (`st`: the file mapped at `bytes`, else NULL): its handle, or
 * 0 with pf_last_error set. */
static uint32_t pf_register(const char *name, const unsigned char *bytes, size_t size, const struct stat *st)
{
    char why[512];
    struct pf_pack *p = calloc(1, sizeof *p);
    if (p == NULL) {
        snprintf(pf_last_error, sizeof pf_last_error, "pyfreeze: pack %s: out of memory", name);
        return 0;
    }
    p->bytes = bytes;
    p->size = size;
    if (st != NULL) {
        p->mapped = 1;
        p->dev = st->st_dev;
        p->ino = st->st_ino;
        p->mtime = st->st_mtim;
    }
    p->name = strdup(name);
    if (p->name == NULL || pf_pack_check(p, why, sizeof why) < 0) {
        snprintf(pf_last_error, sizeof pf_last_error, "pyfreeze: pack %s: %s", name,
                 p->name == NULL ? "out of memory" : why);
        free(p->name);
        free(p);
        return 0;
    }
    uint32_t handle = pf_append(p);
    if (handle == 0) {
        snprintf(pf_last_error, sizeof pf_last_error, "pyfreeze: pack %s: out of memory", name);
        free(p->checked);
        free(p->name);
        free(p);
    }
    return handle;
}

/* Maps and registers the pack file at `path` (read-only, private): its handle, or 0 with
 * pf_last_error set. A file opened before, unchanged, gives the same handle (two threads
 * opening it at once may each get one). */
static uint32_t pf_open_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(pf_last_error, sizeof pf_last_error, "pyfreeze: pack %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 0;
    }
    /* The same file, unchanged since it was opened: the same pack. */
    uint32_t same = 0;
    pf_lock();
    for (uint32_t i = 0; i < pf_npacks && !same; i++) {
        const struct pf_pack *q = pf_packs[i];
        if (q->mapped && q->dev == st.st_dev && q->ino == st.st_ino && q->size == (size_t)st.st_size &&
            q->mtime.tv_sec == st.st_mtim.tv_sec && q->mtime.tv_nsec == st.st_mtim.tv_nsec)
            same = i + 1;
    }
    pf_unlock();
    if (same) {
        close(fd);
        return same;
    }
    size_t size = (size_t)st.st_size;
    const unsigned char *bytes = (const unsigned char *)"";
    if (size > 0) {
        void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            snprintf(pf_last_error, sizeof pf_last_error, "pyfreeze: pack %s: %s", path, strerror(errno));
            close(fd);
            return 0;
        }
        bytes = map;
    }
    close(fd);
    uint32_t handle = pf_register(path, bytes, size, &st);
    if (handle == 0 && size > 0)
        munmap((void *)bytes, size);
    return handle;
}

static int pf_refresh(void);

static int pf_add_front(uint32_t handle)
{
    if (handle == 0)
        return -1;
    for (uint32_t i = 0; i < pf_nfront; i++)
        if (pf_front[i] == handle)
            return 0;
    uint32_t *front = realloc(pf_front, (pf_nfront + 1) * sizeof *front);
    if (front == NULL) {
        snprintf(pf_last_error, sizeof pf_last_error, "pyfreeze: out of memory");
        return -1;
    }
    pf_front = front;
    pf_front[pf_nfront++] = handle;
    return pf_refresh();
}

/* Once Python runs, the packs are its state: only with the GIL. */
static int pf_may_add(void)
{
    if (Py_IsInitialized() && !PyGILState_Check()) {
        snprintf(pf_last_error, sizeof pf_last_error,
                 "pyfreeze: add packs before Py_Initialize(), or holding the GIL");
        return 0;
    }
    return 1;
}

int pyfreeze_add_pack_file(const char *path)
{
    if (!pf_may_add())
        return -1;
    return pf_add_front(pf_open_file(path));
}

int pyfreeze_add_pack_memory(const void *data, size_t size, const char *name)
{
    char fallback[64];
    if (name == NULL) {
        snprintf(fallback, sizeof fallback, "<memory at %p>", data);
        name = fallback;
    }
    if (!pf_may_add())
        return -1;
    if (data == NULL) {
        snprintf(pf_last_error, sizeof pf_last_error, "pyfreeze: pack %s: no memory given", name);
        return -1;
    }
    return pf_add_front(pf_register(name, data, size, NULL));
}

/* -- Views: the linked table (handle 0) or a pack, row by row as the table's structs ------ */

struct pf_view {
    const struct pf_pack *pack; /* NULL: the linked table */
    uint32_t handle;
};

static uint32_t view_count(const struct pf_view *v, int table)
{
    if (v->pack != NULL)
        return v->pack->counts[table];
    switch (table) {
    case PF_MODULES: return pyfreeze_modules_count;
    case PF_RESOURCES: return pyfreeze_resources_count;
    case PF_DISTS: return pyfreeze_distributions_count;
    default: return pyfreeze_dist_files_count;
    }
}

static struct pyfreeze_module view_module(const struct pf_view *v, uint32_t i)
{
    if (v->pack == NULL)
        return pyfreeze_modules[i];
    const struct pf_pack *p = v->pack;
    const unsigned char *row = pf_row(p, PF_MODULES, i);
    struct pyfreeze_module m;
    m.name = pf_string(p, row + PYFREEZE_PACK_MODULE_NAME_AT);
    m.origin = pf_string(p, row + PYFREEZE_PACK_MODULE_ORIGIN_AT);
    m.code = pf_blob(p, row + PYFREEZE_PACK_MODULE_CODE_AT);
    m.code_size = pf_u32(row + PYFREEZE_PACK_MODULE_CODE_SIZE_AT);
    m.source_size = pf_u32(row + PYFREEZE_PACK_MODULE_SOURCE_SIZE_AT);
    m.source = m.source_size ? pf_blob(p, row + PYFREEZE_PACK_MODULE_SOURCE_AT) : NULL;
    m.flags = pf_u32(row + PYFREEZE_PACK_MODULE_FLAGS_AT);
    m.resources_start = pf_u32(row + PYFREEZE_PACK_MODULE_RESOURCES_START_AT);
    m.resources_count = pf_u32(row + PYFREEZE_PACK_MODULE_RESOURCES_COUNT_AT);
    return m;
}

/* The path of row i of a package data (PF_RESOURCES) or distribution file (PF_DIST_FILES)
 * table. */
static const char *view_path(const struct pf_view *v, int table, uint32_t i)
{
    if (v->pack == NULL)
        return table == PF_RESOURCES ? pyfreeze_resources[i].path : pyfreeze_dist_files[i].path;
    /* The path field has the same offset in both tables. */
    return pf_string(v->pack, pf_row(v->pack, table, i) + PYFREEZE_PACK_RESOURCE_PATH_AT);
}

/* (path, ...) of rows [start, start + count) of such a table. */
static PyObject *view_paths(const struct pf_view *v, int table, uint32_t start, uint32_t count)
{
    PyObject *out = PyTuple_New((Py_ssize_t)count);
    if (out == NULL)
        return NULL;
    for (uint32_t i = 0; i < count; i++) {
        PyObject *item = PyUnicode_FromString(view_path(v, table, start + i));
        if (item == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, (Py_ssize_t)i, item);
    }
    return out;
}

/* A package data file or a distribution's file: its path and bytes, checked against their
 * CRC-32C (0), or -1 with ImportError set. */
static int view_file(const struct pf_view *v, int table, uint32_t i, const char **path,
                     const unsigned char **data, uint32_t *size)
{
    *path = view_path(v, table, i);
    if (v->pack == NULL) {
        *data = table == PF_RESOURCES ? pyfreeze_resources[i].data : pyfreeze_dist_files[i].data;
        *size = table == PF_RESOURCES ? pyfreeze_resources[i].size : pyfreeze_dist_files[i].size;
        return 0;
    }
    const unsigned char *row = pf_row(v->pack, table, i);
    /* The data fields have the same offsets in both tables. */
    *data = pf_blob(v->pack, row + PYFREEZE_PACK_RESOURCE_DATA_AT);
    *size = pf_u32(row + PYFREEZE_PACK_RESOURCE_DATA_SIZE_AT);
    if (pf_crc32(0, *data, *size) != pf_u32(row + PYFREEZE_PACK_RESOURCE_CRC32_AT)) {
        PyErr_Format(PyExc_ImportError, "pyfreeze: pack %s: checksum mismatch: file %s",
                     v->pack->name, *path);
        return -1;
    }
    return 0;
}

_Static_assert(PYFREEZE_PACK_RESOURCE_PATH_AT == PYFREEZE_PACK_DIST_FILE_PATH_AT &&
                   PYFREEZE_PACK_RESOURCE_RESERVED_AT == PYFREEZE_PACK_DIST_FILE_RESERVED_AT &&
                   PYFREEZE_PACK_RESOURCE_DATA_AT == PYFREEZE_PACK_DIST_FILE_DATA_AT &&
                   PYFREEZE_PACK_RESOURCE_DATA_SIZE_AT == PYFREEZE_PACK_DIST_FILE_DATA_SIZE_AT &&
                   PYFREEZE_PACK_RESOURCE_CRC32_AT == PYFREEZE_PACK_DIST_FILE_CRC32_AT,
               "pack file rows: one reader for both tables");

/* The distribution row i: name, origin, first file, number of files. */
static void view_distribution(const struct pf_view *v, uint32_t i, const char **name,
                              const char **origin, uint32_t *start, uint32_t *count)
{
    if (v->pack == NULL) {
        *name = pyfreeze_distributions[i].name;
        *origin = pyfreeze_distributions[i].origin;
        *start = pyfreeze_distributions[i].files_start;
        *count = pyfreeze_distributions[i].files_count;
        return;
    }
    const unsigned char *row = pf_row(v->pack, PF_DISTS, i);
    *name = pf_string(v->pack, row + PYFREEZE_PACK_DISTRIBUTION_NAME_AT);
    *origin = pf_string(v->pack, row + PYFREEZE_PACK_DISTRIBUTION_ORIGIN_AT);
    *start = pf_u32(row + PYFREEZE_PACK_DISTRIBUTION_FILES_START_AT);
    *count = pf_u32(row + PYFREEZE_PACK_DISTRIBUTION_FILES_COUNT_AT);
}

/* Binary search of a view's module table: 1 and the row in *out, or 0. */
static int view_find(const struct pf_view *v, const char *name, struct pyfreeze_module *out, uint32_t *index)
{
    if (v->pack == NULL) {
        const struct pyfreeze_module *m = pyfreeze_find(name);
        if (m == NULL)
            return 0;
        *out = *m;
        if (index != NULL)
            *index = (uint32_t)(m - pyfreeze_modules);
        return 1;
    }
    uint32_t lo = 0, hi = v->pack->counts[PF_MODULES];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const unsigned char *row = pf_row(v->pack, PF_MODULES, mid);
        int c = strcmp(pf_string(v->pack, row + PYFREEZE_PACK_MODULE_NAME_AT), name);
        if (c < 0) {
            lo = mid + 1;
        } else if (c > 0) {
            hi = mid;
        } else {
            *out = view_module(v, mid);
            if (index != NULL)
                *index = mid;
            return 1;
        }
    }
    return 0;
}

/* Parses the optional handle argument (0: the linked table) into *v; -1 with an exception. */
static int view_of(PyObject *handle, struct pf_view *v)
{
    v->pack = NULL;
    v->handle = 0;
    if (handle == NULL)
        return 0;
    unsigned long h = PyLong_AsUnsignedLong(handle);
    if (h == (unsigned long)-1 && PyErr_Occurred())
        return -1;
    v->handle = (uint32_t)h;
    v->pack = h ? pf_pack_at(h) : NULL;
    if (h && v->pack == NULL) {
        PyErr_Format(PyExc_ValueError, "no pack with handle %lu", h);
        return -1;
    }
    return 0;
}

/* Looks a module up by a str argument; 0 without an exception when absent. A name with an
 * embedded NUL is absent (the table compares C strings: "string\0" would find "string"). */
static int find_arg(const struct pf_view *v, PyObject *arg, struct pyfreeze_module *m, uint32_t *index)
{
    Py_ssize_t size;
    const char *name = PyUnicode_AsUTF8AndSize(arg, &size);
    if (name == NULL)
        return -1;
    if (strlen(name) != (size_t)size)
        return 0;
    return view_find(v, name, m, index);
}

/* The (name[, handle]) arguments of a METH_FASTCALL function: the view and the name. */
static int name_and_view(PyObject *const *args, Py_ssize_t nargs, const char *fn, struct pf_view *v)
{
    if (nargs < 1 || nargs > 2 || !PyUnicode_Check(args[0])) {
        PyErr_Format(PyExc_TypeError, "%s(name[, pack]): name must be a str", fn);
        return -1;
    }
    return view_of(nargs == 2 ? args[1] : NULL, v);
}

static PyObject *pf_find(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    struct pf_view v;
    struct pyfreeze_module m;
    if (name_and_view(args, nargs, "find", &v) < 0)
        return NULL;
    int found = find_arg(&v, args[0], &m, NULL);
    if (found < 0)
        return NULL;
    if (!found)
        Py_RETURN_NONE;
    return Py_BuildValue("(Is)", (unsigned int)m.flags, m.origin);
}

/* The module named by `arg` in the view: 1, or -1 with ImportError set. With `what`
 * (PF_CODE_OK, PF_SOURCE_OK), a pack module's code or source is checked against its CRC-32C
 * the first time. */
static int find_or_raise(const struct pf_view *v, PyObject *arg, struct pyfreeze_module *m, int what)
{
    uint32_t index = 0;
    int found = find_arg(v, arg, m, &index);
    if (found < 0)
        return -1;
    if (!found) {
        PyErr_Format(PyExc_ImportError, "no frozen module named %R", arg);
        return -1;
    }
    struct pf_pack *p = (struct pf_pack *)v->pack;
    if (p != NULL && what && !(p->checked[index] & what)) {
        const unsigned char *row = pf_row(p, PF_MODULES, index);
        int code = what == PF_CODE_OK;
        uint32_t crc = code ? pf_crc32(0, m->code, m->code_size)
                            : pf_crc32(0, m->source != NULL ? m->source : m->code, m->source_size);
        if (crc != pf_u32(row + (code ? PYFREEZE_PACK_MODULE_CODE_CRC32_AT : PYFREEZE_PACK_MODULE_SOURCE_CRC32_AT))) {
            PyErr_Format(PyExc_ImportError, "pyfreeze: pack %s: checksum mismatch: module %s",
                         p->name, m->name);
            return -1;
        }
        p->checked[index] |= (unsigned char)what;
    }
    return 1;
}

static void pf_untrack_code(PyCodeObject *code);

/* Untracks the tuples of `op` (itself, its items, the code objects among them) that cannot
 * be part of a reference cycle, as the collector would at its first look (CPython's
 * _PyTuple_MaybeUntrack): none of a tuple's items may be tracked, once the tuples among them
 * had the same treatment. Returns whether `op` may be tracked. A tuple may have been untracked
 * by a collection during unmarshalling while tuples under it survived that collection into
 * an older generation (they were still being filled): items are looked at in any case. */
static int pf_untrack(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    if (type == &PyCode_Type) {
        pf_untrack_code((PyCodeObject *)op);
        return PyObject_IS_GC(op);
    }
    if (!PyType_HasFeature(type, Py_TPFLAGS_HAVE_GC)) /* str, int, bytes, None, ... */
        return 0;
    if (type != &PyTuple_Type)
        return PyObject_IS_GC(op);
    int atomic = 1;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(op); i++)
        if (pf_untrack(PyTuple_GET_ITEM(op, i)))
            atomic = 0;
    if (!PyObject_GC_IsTracked(op))
        return 0;
    if (!atomic)
        return 1;
    PyObject_GC_UnTrack(op);
    return 0;
}

/* A tuple of names (str only: code objects are made so). */
static void pf_untrack_names(PyObject *names)
{
    if (PyObject_GC_IsTracked(names))
        PyObject_GC_UnTrack(names);
}

static void pf_untrack_code(PyCodeObject *code)
{
    pf_untrack(code->co_consts);
    pf_untrack_names(code->co_names);
#if PY_VERSION_HEX >= 0x030B0000
    pf_untrack_names(code->co_localsplusnames);
#else
    pf_untrack_names(code->co_varnames);
    pf_untrack_names(code->co_freevars);
    pf_untrack_names(code->co_cellvars);
#endif
}

/* Unmarshals a module's code. Unmarshalling makes every tuple of the code tree (constants,
 * names) tracked by the garbage collector, a few hundred a module, nearly all of them made
 * only of strings, numbers and code objects: each young collection during the imports then
 * walks them until it untracks them itself. They are untracked here at once, as that first
 * collection would, so collections look only at what module bodies create. */
static PyObject *pf_unmarshal_code(const unsigned char *code, size_t size)
{
    PyObject *co = PyMarshal_ReadObjectFromString((const char *)code, (Py_ssize_t)size);
    if (co != NULL)
        pf_untrack(co);
    return co;
}

static PyObject *pf_get_code(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    struct pf_view v;
    struct pyfreeze_module m;
    if (name_and_view(args, nargs, "get_code", &v) < 0 || find_or_raise(&v, args[0], &m, PF_CODE_OK) < 0)
        return NULL;
    if (m.code_size == 0)
        return PyErr_Format(PyExc_ImportError, "frozen module %s has no bytecode", m.name);
    return pf_unmarshal_code(m.code, m.code_size);
}

static PyObject *pf_get_source(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    struct pf_view v;
    struct pyfreeze_module m;
    if (name_and_view(args, nargs, "get_source", &v) < 0 || find_or_raise(&v, args[0], &m, PF_SOURCE_OK) < 0)
        return NULL;
    if (m.source == NULL)
        Py_RETURN_NONE;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)pyfreeze_source_size(&m));
    if (out == NULL)
        return NULL;
    if (pyfreeze_source_read(&m, (unsigned char *)PyBytes_AS_STRING(out)) < 0) {
        Py_DECREF(out);
        return PyErr_Format(PyExc_ImportError,
                            "pyfreeze: the compressed source of %s is corrupt (regenerate the table)",
                            m.name);
    }
    return out;
}

/* ((name, flags, origin), ...) for every module, in table order. */
static PyObject *pf_modules(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    struct pf_view v;
    if (nargs > 1 || view_of(nargs ? args[0] : NULL, &v) < 0)
        return nargs > 1 ? PyErr_Format(PyExc_TypeError, "modules([pack])") : NULL;
    uint32_t n = view_count(&v, PF_MODULES);
    PyObject *out = PyTuple_New((Py_ssize_t)n);
    if (out == NULL)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        struct pyfreeze_module m = view_module(&v, i);
        PyObject *row = Py_BuildValue("(sIs)", m.name, (unsigned int)m.flags, m.origin);
        if (row == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, (Py_ssize_t)i, row);
    }
    return out;
}

/* The relative paths of a package's data files. */
static PyObject *pf_resources(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    struct pf_view v;
    struct pyfreeze_module m;
    if (name_and_view(args, nargs, "resources", &v) < 0 || find_or_raise(&v, args[0], &m, 0) < 0)
        return NULL;
    return view_paths(&v, PF_RESOURCES, m.resources_start, m.resources_count);
}

/* The bytes of file `path` among rows [start, start + count) of table PF_RESOURCES or
 * PF_DIST_FILES (sorted by path), or -1 with FileNotFoundError (ImportError: bad checksum). */
static PyObject *read_file(const struct pf_view *v, int table, uint32_t start, uint32_t count,
                           const char *path, const char *owner)
{
    uint32_t lo = start, hi = start + count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const char *at = view_path(v, table, mid);
        int c = strcmp(at, path);
        if (c < 0) {
            lo = mid + 1;
        } else if (c > 0) {
            hi = mid;
        } else {
            /* Only the file asked for is checked against its CRC-32C. */
            const unsigned char *data;
            uint32_t size;
            if (view_file(v, table, mid, &at, &data, &size) < 0)
                return NULL;
            return PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)size);
        }
    }
    return PyErr_Format(PyExc_FileNotFoundError, "%s has no frozen file %s", owner, path);
}

static PyObject *pf_read_resource(PyObject *self, PyObject *args)
{
    PyObject *package, *handle = NULL;
    const char *path;
    struct pf_view v;
    struct pyfreeze_module m;
    if (!PyArg_ParseTuple(args, "Us|O:read_resource", &package, &path, &handle) ||
        view_of(handle, &v) < 0 || find_or_raise(&v, package, &m, 0) < 0)
        return NULL;
    return read_file(&v, PF_RESOURCES, m.resources_start, m.resources_count, path, m.name);
}

/* The package whose folder is `path` (a regular package's origin is `path/__init__.py`, a
 * namespace package's is `path`), or None. A linear scan: used by the path hook and get_data,
 * never on the import path. */
static PyObject *pf_package_at(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    struct pf_view v;
    if (name_and_view(args, nargs, "package_at", &v) < 0)
        return NULL;
    const char *path = PyUnicode_AsUTF8(args[0]);
    if (path == NULL)
        return NULL;
    size_t n = strlen(path);
    uint32_t count = view_count(&v, PF_MODULES);
    for (uint32_t i = 0; i < count; i++) {
        struct pyfreeze_module m = view_module(&v, i);
        if (!(m.flags & PYFREEZE_PACKAGE) || strncmp(m.origin, path, n) != 0)
            continue;
        const char *rest = m.origin + n;
        if ((m.flags & PYFREEZE_NAMESPACE) ? *rest == '\0' : strcmp(rest, "/__init__.py") == 0)
            return PyUnicode_FromString(m.name);
    }
    Py_RETURN_NONE;
}

/* ((name, origin), ...) for every distribution metadata folder, in table order. */
static PyObject *pf_distributions(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    struct pf_view v;
    if (nargs > 1 || view_of(nargs ? args[0] : NULL, &v) < 0)
        return nargs > 1 ? PyErr_Format(PyExc_TypeError, "distributions([pack])") : NULL;
    uint32_t n = view_count(&v, PF_DISTS);
    PyObject *out = PyTuple_New((Py_ssize_t)n);
    if (out == NULL)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        const char *name, *origin;
        uint32_t start, count;
        view_distribution(&v, i, &name, &origin, &start, &count);
        PyObject *pair = Py_BuildValue("(ss)", name, origin);
        if (pair == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, (Py_ssize_t)i, pair);
    }
    return out;
}

/* The distribution row named by a str argument: its index, or -1 with FileNotFoundError. */
static long find_distribution(const struct pf_view *v, PyObject *arg)
{
    Py_ssize_t size;
    const char *wanted = PyUnicode_AsUTF8AndSize(arg, &size);
    if (wanted == NULL)
        return -1;
    uint32_t lo = 0, hi = strlen(wanted) == (size_t)size ? view_count(v, PF_DISTS) : 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const char *name, *origin;
        uint32_t start, count;
        view_distribution(v, mid, &name, &origin, &start, &count);
        int c = strcmp(name, wanted);
        if (c < 0)
            lo = mid + 1;
        else if (c > 0)
            hi = mid;
        else
            return (long)mid;
    }
    PyErr_Format(PyExc_FileNotFoundError, "no frozen distribution metadata %R", arg);
    return -1;
}

/* The relative paths of a distribution metadata folder's files. */
static PyObject *pf_dist_files(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    struct pf_view v;
    if (name_and_view(args, nargs, "dist_files", &v) < 0)
        return NULL;
    long d = find_distribution(&v, args[0]);
    if (d < 0)
        return NULL;
    const char *name, *origin;
    uint32_t start, count;
    view_distribution(&v, (uint32_t)d, &name, &origin, &start, &count);
    return view_paths(&v, PF_DIST_FILES, start, count);
}

static PyObject *pf_read_dist_file(PyObject *self, PyObject *args)
{
    PyObject *name_arg, *handle = NULL;
    const char *path;
    struct pf_view v;
    if (!PyArg_ParseTuple(args, "Us|O:read_dist_file", &name_arg, &path, &handle) ||
        view_of(handle, &v) < 0)
        return NULL;
    long d = find_distribution(&v, name_arg);
    if (d < 0)
        return NULL;
    const char *name, *origin;
    uint32_t start, count;
    view_distribution(&v, (uint32_t)d, &name, &origin, &start, &count);
    return read_file(&v, PF_DIST_FILES, start, count, path, name);
}

/* ((module, distribution), ...): the top-level modules and distributions of roots whose
 * installed copies win (`precedence = "path"`), "" for none. The linked table only. */
static PyObject *pf_path_first(PyObject *self, PyObject *unused)
{
    PyObject *out = PyTuple_New((Py_ssize_t)pyfreeze_path_first_count);
    if (out == NULL)
        return NULL;
    for (uint32_t i = 0; i < pyfreeze_path_first_count; i++) {
        PyObject *pair = Py_BuildValue("(ss)", pyfreeze_path_first[i].module,
                                       pyfreeze_path_first[i].distribution);
        if (pair == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, (Py_ssize_t)i, pair);
    }
    return out;
}

/* pack_open(path) -> handle: maps and checks the pack file (once per path); ImportError
 * naming it and the reason. */
static PyObject *pf_pack_open(PyObject *self, PyObject *arg)
{
    PyObject *bytes;
    if (!PyUnicode_FSConverter(arg, &bytes))
        return NULL;
    uint32_t handle = pf_open_file(PyBytes_AS_STRING(bytes));
    Py_DECREF(bytes);
    if (handle == 0) {
        PyObject *msg = PyUnicode_DecodeFSDefault(pf_last_error);
        if (msg != NULL) {
            PyErr_SetImportError(msg, NULL, arg);
            Py_DECREF(msg);
        }
        return NULL;
    }
    return PyLong_FromUnsignedLong(handle);
}

/* front_packs() -> (handle, ...): the packs added with the C API, the last added first. */
static PyObject *pf_front_packs(PyObject *self, PyObject *unused)
{
    PyObject *out = PyTuple_New((Py_ssize_t)pf_nfront);
    if (out == NULL)
        return NULL;
    for (uint32_t i = 0; i < pf_nfront; i++) {
        PyObject *h = PyLong_FromUnsignedLong(pf_front[pf_nfront - 1 - i]);
        if (h == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, (Py_ssize_t)i, h);
    }
    return out;
}

static PyObject *pf_pack_name(PyObject *self, PyObject *arg)
{
    struct pf_view v;
    if (view_of(arg, &v) < 0)
        return NULL;
    if (v.pack == NULL)
        Py_RETURN_NONE;
    return PyUnicode_DecodeFSDefault(v.pack->name);
}

/* The stock runtime's activation audit hook (pyfreeze_install): "none" (activated after
 * initialisation, or a patched CPython), "registered", "removed" once its work is done, or
 * "kept: why". */
static const char *hook_state = "none";

static PyObject *pf_activation_hook(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyUnicode_FromString(hook_state);
}

static PyMethodDef pf_methods[] = {
    {"find", (PyCFunction)(void (*)(void))pf_find, METH_FASTCALL, "find(name[, pack]) -> (flags, origin) or None"},
    {"get_code", (PyCFunction)(void (*)(void))pf_get_code, METH_FASTCALL, "get_code(name[, pack]) -> code object"},
    {"get_source", (PyCFunction)(void (*)(void))pf_get_source, METH_FASTCALL, "get_source(name[, pack]) -> bytes or None"},
    {"modules", (PyCFunction)(void (*)(void))pf_modules, METH_FASTCALL, "modules([pack]) -> ((name, flags, origin), ...)"},
    {"resources", (PyCFunction)(void (*)(void))pf_resources, METH_FASTCALL, "resources(package[, pack]) -> (path, ...)"},
    {"read_resource", pf_read_resource, METH_VARARGS, "read_resource(package, path[, pack]) -> bytes"},
    {"package_at", (PyCFunction)(void (*)(void))pf_package_at, METH_FASTCALL, "package_at(folder[, pack]) -> name of the package there, or None"},
    {"distributions", (PyCFunction)(void (*)(void))pf_distributions, METH_FASTCALL, "distributions([pack]) -> ((folder name, origin), ...)"},
    {"dist_files", (PyCFunction)(void (*)(void))pf_dist_files, METH_FASTCALL, "dist_files(folder name[, pack]) -> (path, ...)"},
    {"read_dist_file", pf_read_dist_file, METH_VARARGS, "read_dist_file(folder name, path[, pack]) -> bytes"},
    {"path_first", pf_path_first, METH_NOARGS, "path_first() -> ((top-level module, distribution folder), ...)"},
    {"pack_open", pf_pack_open, METH_O, "pack_open(path) -> pack handle (ImportError naming the reason)"},
    {"front_packs", pf_front_packs, METH_NOARGS, "front_packs() -> the handles of the packs added from C, the last added first"},
    {"pack_name", pf_pack_name, METH_O, "pack_name(pack) -> its path or name"},
    {"activation_hook", pf_activation_hook, METH_NOARGS, "activation_hook() -> 'none', 'registered', 'removed' or 'kept: why'"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef pf_module = {
    PyModuleDef_HEAD_INIT, "_pyfreeze", "The extended frozen-module table of pyfreeze.", -1, pf_methods,
};

/* The `_pyfreeze` module: a new reference, or NULL with an exception. */
static PyObject *new_module(void)
{
    PyObject *module = PyModule_Create(&pf_module);
    if (module != NULL &&
        (PyModule_AddIntConstant(module, "PACKAGE", PYFREEZE_PACKAGE) < 0 ||
         PyModule_AddIntConstant(module, "NAMESPACE", PYFREEZE_NAMESPACE) < 0 ||
         PyModule_AddIntConstant(module, "SOURCE_DEFLATE", PYFREEZE_SOURCE_DEFLATE) < 0))
        Py_CLEAR(module);
    return module;
}

#ifdef PYFREEZE_PATCHED_CPYTHON
/* In a CPython patched by pyfreeze, Tools/pyfreeze/objects.mk compiles this file into
 * Python/frozen_ext.o with PYFREEZE_PATCHED_CPYTHON defined, and names this function
 * _PyFrozenExt_packs_module: `_imp._frozen_ext_packs()` returns its module, whose pack
 * accessors serve the pack files on sys.path (`_pyfreeze_runtime.attach_cpython()`). The
 * interpreter serves its linked table itself: none of the stock start-up below is needed. */
PyObject *pyfreeze_packs_module(void)
{
    return new_module();
}

static int pf_refresh(void)
{
    return 0; /* no pack is added from C here (the C API is local to libpython) */
}
#else
static int activating;

/* Whether this interpreter runs with the table activated: `_pyfreeze` is in sys.modules.
 * Derived, not remembered, so a re-initialised interpreter activates again. */
static int is_active(void)
{
    PyObject *modules = PyImport_GetModuleDict();
    return modules != NULL && PyDict_GetItemString(modules, "_pyfreeze") != NULL;
}

static int activate(void)
{
    int rc = -1;
    PyObject *runtime = NULL, *result = NULL;
    PyObject *module = new_module();
    if (module == NULL)
        return -1;
    if (PyDict_SetItemString(PyImport_GetModuleDict(), "_pyfreeze", module) < 0)
        goto done;
    runtime = PyImport_ImportModule(PYFREEZE_RUNTIME_MODULE);
    if (runtime == NULL)
        goto done;
    result = PyObject_CallMethod(runtime, "install", "O", module);
    if (result != NULL)
        rc = 0;
done:
    Py_XDECREF(result);
    Py_XDECREF(runtime);
    Py_DECREF(module);
    return rc;
}

/* After a pack was added from C: an active runtime looks at the packs again. */
static int pf_refresh(void)
{
    if (!Py_IsInitialized() || !is_active())
        return 0;
    PyObject *result = NULL, *runtime = PyImport_ImportModule(PYFREEZE_RUNTIME_MODULE);
    if (runtime != NULL)
        result = PyObject_CallMethod(runtime, "_packs_changed", NULL);
    Py_XDECREF(runtime);
    if (result != NULL) {
        Py_DECREF(result);
        return 0;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *text = value != NULL ? PyObject_Str(value) : NULL;
    const char *utf8 = text != NULL ? PyUnicode_AsUTF8(text) : NULL;
    snprintf(pf_last_error, sizeof pf_last_error, "pyfreeze: the runtime could not take the pack: %s",
             utf8 != NULL ? utf8 : "(no message)");
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    PyErr_Clear();
    return -1;
}

/* Whether the runtime's pack hook is ahead of zipimporter in sys.path_hooks; reset by
 * pyfreeze_install(). */
static int hooks_ordered;

/* The runtime activates before CPython installs zipimport, which then puts zipimporter first
 * in sys.path_hooks: put the pack hook back in front of it (zipimport would take a pack holding
 * a zip file near its end for that zip file). Done at the first import once zipimport is in
 * place, before PathFinder has looked at sys.path (`encodings`). Never raises. */
static void order_path_hooks(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *name = PyUnicode_FromString("zipimport");
    PyObject *module = name != NULL ? PyImport_GetModule(name) : NULL;
    PyObject *zipimporter = module != NULL ? PyObject_GetAttrString(module, "zipimporter") : NULL;
    PyObject *runtime_name = PyUnicode_FromString(PYFREEZE_RUNTIME_MODULE);
    PyObject *runtime = runtime_name != NULL ? PyImport_GetModule(runtime_name) : NULL;
    PyObject *hook = runtime != NULL ? PyObject_GetAttrString(runtime, "_pack_path_hook") : NULL;
    PyObject *hooks = PySys_GetObject("path_hooks"); /* borrowed */
    if (zipimporter != NULL && hook != NULL && hooks != NULL && PyList_Check(hooks)) {
        Py_ssize_t zip_at = -1, hook_at = -1;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(hooks); i++) {
            PyObject *item = PyList_GET_ITEM(hooks, i);
            if (item == zipimporter && zip_at < 0)
                zip_at = i;
            if (item == hook && hook_at < 0)
                hook_at = i;
        }
        if (zip_at >= 0 && hook_at > zip_at && PySequence_DelItem(hooks, hook_at) == 0)
            PyList_Insert(hooks, zip_at, hook); /* (`hook` holds its own reference) */
        hooks_ordered = zip_at >= 0 || hook_at < 0;
    }
    Py_XDECREF(hook);
    Py_XDECREF(runtime);
    Py_XDECREF(runtime_name);
    Py_XDECREF(zipimporter);
    Py_XDECREF(module);
    Py_XDECREF(name);
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
}

/* pyfreeze_audit.c, compiled as core code: unlinks the hook from the runtime's list. "removed",
 * or why it was kept. */
const char *pyfreeze_audit_hook_remove(Py_AuditHookFunction hook, void *data);

static int audit_hook(const char *event, PyObject *args, void *data)
{
    (void)args;
    (void)data;
    if (activating || strcmp(event, "import") != 0)
        return 0;
    if (PyInterpreterState_Get() != PyInterpreterState_Main())
        return 0;
    if (is_active()) {
        if (!hooks_ordered)
            order_path_hooks();
        /* Its work is done: every later audited operation of the process would pay for it
         * (each unmarshalled module copied for `marshal.loads`'s event). */
        if (hooks_ordered && strcmp(hook_state, "registered") == 0)
            hook_state = pyfreeze_audit_hook_remove(audit_hook, NULL);
        return 0;
    }
    activating = 1;
    int rc = activate();
    activating = 0;
    return rc; /* a failure fails the import, and with it Py_Initialize(), loudly */
}

#if PY_VERSION_HEX < 0x030B0000
/* Before 3.11, PyImport_FrozenModules replaces CPython's own frozen table, importlib's
 * bootstrap included: serve a copy of that table followed by ours. */
static const struct _frozen *merged_table(void)
{
    static struct _frozen *merged;
    if (merged == NULL) {
        const struct _frozen *old = PyImport_FrozenModules;
        size_t n_old = 0;
        while (old != NULL && old[n_old].name != NULL)
            n_old++;
        merged = calloc(n_old + pyfreeze_modules_count + 1, sizeof(struct _frozen));
        if (merged == NULL)
            return NULL;
        if (n_old)
            memcpy(merged, old, n_old * sizeof(struct _frozen));
        memcpy(merged + n_old, pyfreeze_frozen_modules, pyfreeze_modules_count * sizeof(struct _frozen));
    }
    return merged;
}
#endif

int pyfreeze_install(void)
{
#if PY_VERSION_HEX < 0x030B0000
    const struct _frozen *table = merged_table();
    if (table == NULL)
        return -1;
    PyImport_FrozenModules = table;
#else
    PyImport_FrozenModules = (const struct _frozen *)pyfreeze_frozen_modules;
#endif
    if (Py_IsInitialized()) {
        if (is_active())
            return 0;
        hook_state = "none"; /* (a previous initialisation's hook is gone with it) */
        return activate();
    }
    hooks_ordered = 0;
    /* Hooks are dropped by Py_Finalize(), so each initialisation needs this call. */
    if (PySys_AddAuditHook(audit_hook, NULL) < 0)
        return -1;
    hook_state = "registered";
    return 0;
}

#endif /* PYFREEZE_PATCHED_CPYTHON */

#endif /* the tables are for this Python.h */
