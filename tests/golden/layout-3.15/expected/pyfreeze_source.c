/* pyfreeze: reading a module's embedded source. Copied verbatim into every output folder by
 * `pyfreeze freeze` (pyfreeze_source.c); plain C, no Python.h. The stock runtime's
 * `_pyfreeze.get_source`, pyfreeze-build's `Module::source()` and a CPython patched by pyfreeze
 * (where it is linked as _PyFrozenExt_source_size and _PyFrozenExt_source_read) read sources
 * through it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pyfreeze.h"

/* ---- Compressed sources (PYFREEZE_SOURCE_DEFLATE) ----------------------------------------
 * A compressed source is the decoded size (4 bytes, little-endian), then a raw DEFLATE stream
 * (RFC 1951). The decoder below reads only inside the stored bytes and writes only inside the
 * output it is given, whatever the stream says: a corrupt stream is an error, never a crash. */

struct pf_stream {
    const unsigned char *in;
    size_t in_size, in_pos;
    uint32_t bits; /* bits read but not used, the next one lowest */
    int nbits;
    unsigned char *out;
    size_t out_size, out_pos;
};

/* The next `n` (at most 16) bits of the stream, first bit lowest; -1 past its end. */
static long pf_bits(struct pf_stream *s, int n)
{
    while (s->nbits < n) {
        if (s->in_pos == s->in_size)
            return -1;
        s->bits |= (uint32_t)s->in[s->in_pos++] << s->nbits;
        s->nbits += 8;
    }
    long value = (long)(s->bits & ((1u << n) - 1));
    s->bits >>= n;
    s->nbits -= n;
    return value;
}

/* A canonical Huffman code: how many codes of each length, and the symbols in code order. */
struct pf_code {
    unsigned short count[16];
    unsigned short symbol[288];
};

/* Builds `c` from the code lengths of symbols 0..n-1; -1 when the lengths describe more codes
 * than the lengths allow (an incomplete code is accepted; its missing codes decode as errors). */
static int pf_code_build(struct pf_code *c, const unsigned char *lengths, int n)
{
    unsigned short next[16];
    memset(c->count, 0, sizeof(c->count));
    for (int i = 0; i < n; i++)
        c->count[lengths[i]]++;
    long room = 1;
    for (int len = 1; len < 16; len++) {
        room = 2 * room - c->count[len];
        if (room < 0)
            return -1;
    }
    next[1] = 0;
    for (int len = 1; len < 15; len++)
        next[len + 1] = (unsigned short)(next[len] + c->count[len]);
    for (int i = 0; i < n; i++)
        if (lengths[i] != 0)
            c->symbol[next[lengths[i]]++] = (unsigned short)i;
    return 0;
}

/* The next symbol of code `c`, read bit by bit (codes are stored first bit highest); -1 on
 * an unused code or the end of the stream. */
static int pf_code_read(struct pf_stream *s, const struct pf_code *c)
{
    long code = 0, first = 0, index = 0;
    for (int len = 1; len < 16; len++) {
        long bit = pf_bits(s, 1);
        if (bit < 0)
            return -1;
        code |= bit;
        long count = c->count[len];
        if (code - first < count)
            return c->symbol[index + code - first];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return -1;
}

static const unsigned short pf_length_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const unsigned char pf_length_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const unsigned short pf_distance_base[30] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
    257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const unsigned char pf_distance_extra[30] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

/* The symbols of one block, up to its end code. */
static int pf_block(struct pf_stream *s, const struct pf_code *literals, const struct pf_code *distances)
{
    for (;;) {
        int symbol = pf_code_read(s, literals);
        if (symbol < 0)
            return -1;
        if (symbol < 256) {
            if (s->out_pos == s->out_size)
                return -1;
            s->out[s->out_pos++] = (unsigned char)symbol;
            continue;
        }
        if (symbol == 256)
            return 0;
        symbol -= 257;
        if (symbol >= 29)
            return -1;
        long extra = pf_bits(s, pf_length_extra[symbol]);
        int d = pf_code_read(s, distances);
        if (extra < 0 || d < 0 || d >= 30)
            return -1;
        size_t length = pf_length_base[symbol] + (size_t)extra;
        long dextra = pf_bits(s, pf_distance_extra[d]);
        if (dextra < 0)
            return -1;
        size_t distance = pf_distance_base[d] + (size_t)dextra;
        if (distance > s->out_pos || length > s->out_size - s->out_pos)
            return -1;
        for (size_t i = 0; i < length; i++, s->out_pos++)
            s->out[s->out_pos] = s->out[s->out_pos - distance];
    }
}

static int pf_stored_block(struct pf_stream *s)
{
    s->bits = 0; /* to the next byte */
    s->nbits = 0;
    if (s->in_size - s->in_pos < 4)
        return -1;
    const unsigned char *p = s->in + s->in_pos;
    size_t length = (size_t)p[0] | (size_t)p[1] << 8;
    if (((size_t)p[2] | (size_t)p[3] << 8) != (~length & 0xffff))
        return -1;
    s->in_pos += 4;
    if (length > s->in_size - s->in_pos || length > s->out_size - s->out_pos)
        return -1;
    memcpy(s->out + s->out_pos, s->in + s->in_pos, length);
    s->in_pos += length;
    s->out_pos += length;
    return 0;
}

static int pf_fixed_block(struct pf_stream *s)
{
    /* Built for each block (cheap next to decoding it): no shared state between threads. */
    struct pf_code literals, distances;
    unsigned char lengths[288];
    memset(lengths, 8, 144);
    memset(lengths + 144, 9, 112);
    memset(lengths + 256, 7, 24);
    memset(lengths + 280, 8, 8);
    pf_code_build(&literals, lengths, 288);
    memset(lengths, 5, 30);
    pf_code_build(&distances, lengths, 30);
    return pf_block(s, &literals, &distances);
}

static int pf_dynamic_block(struct pf_stream *s)
{
    static const unsigned char order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    unsigned char lengths[320];
    struct pf_code literals, distances, lencode;
    long nlit = pf_bits(s, 5), ndist = pf_bits(s, 5), nlen = pf_bits(s, 4);
    if (nlit < 0 || ndist < 0 || nlen < 0)
        return -1;
    nlit += 257;
    ndist += 1;
    nlen += 4;
    if (nlit > 286 || ndist > 30)
        return -1;
    memset(lengths, 0, 19);
    for (long i = 0; i < nlen; i++) {
        long len = pf_bits(s, 3);
        if (len < 0)
            return -1;
        lengths[order[i]] = (unsigned char)len;
    }
    if (pf_code_build(&lencode, lengths, 19) < 0)
        return -1;
    for (long i = 0; i < nlit + ndist;) {
        int symbol = pf_code_read(s, &lencode);
        if (symbol < 0)
            return -1;
        if (symbol < 16) {
            lengths[i++] = (unsigned char)symbol;
            continue;
        }
        unsigned char value = 0;
        long repeat;
        if (symbol == 16) {
            if (i == 0)
                return -1;
            value = lengths[i - 1];
            repeat = pf_bits(s, 2);
            repeat = repeat < 0 ? -1 : repeat + 3;
        }
        else if (symbol == 17) {
            repeat = pf_bits(s, 3);
            repeat = repeat < 0 ? -1 : repeat + 3;
        }
        else {
            repeat = pf_bits(s, 7);
            repeat = repeat < 0 ? -1 : repeat + 11;
        }
        if (repeat < 0 || i + repeat > nlit + ndist)
            return -1;
        memset(lengths + i, value, (size_t)repeat);
        i += repeat;
    }
    if (lengths[256] == 0) /* no end code */
        return -1;
    if (pf_code_build(&literals, lengths, (int)nlit) < 0 ||
        pf_code_build(&distances, lengths + nlit, (int)ndist) < 0)
        return -1;
    return pf_block(s, &literals, &distances);
}

/* Decodes the raw DEFLATE stream in[0..in_size) into exactly out_size bytes; 0, or -1. */
static int pf_inflate(const unsigned char *in, size_t in_size, unsigned char *out, size_t out_size)
{
    struct pf_stream s = {in, in_size, 0, 0, 0, out, out_size, 0};
    long last;
    do {
        last = pf_bits(&s, 1);
        long type = pf_bits(&s, 2);
        int status;
        if (last < 0 || type < 0)
            return -1;
        switch (type) {
        case 0:
            status = pf_stored_block(&s);
            break;
        case 1:
            status = pf_fixed_block(&s);
            break;
        case 2:
            status = pf_dynamic_block(&s);
            break;
        default:
            return -1;
        }
        if (status < 0)
            return -1;
    } while (!last);
    return s.out_pos == out_size ? 0 : -1;
}

uint32_t pyfreeze_source_size(const struct pyfreeze_module *m)
{
    if (m->source == NULL)
        return 0;
    if (!(m->flags & PYFREEZE_SOURCE_DEFLATE))
        return m->source_size;
    if (m->source_size < 4)
        return 0;
    const unsigned char *p = m->source;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int pyfreeze_source_read(const struct pyfreeze_module *m, unsigned char *out)
{
    if (m->source == NULL)
        return -1;
    if (!(m->flags & PYFREEZE_SOURCE_DEFLATE)) {
        memcpy(out, m->source, m->source_size);
        return 0;
    }
    if (m->source_size < 4)
        return -1;
    return pf_inflate(m->source + 4, m->source_size - 4, out, pyfreeze_source_size(m));
}

