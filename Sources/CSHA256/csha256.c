/*
 * csha256.c — SHA-256 as specified in FIPS 180-4, with an x86-64 SHA-NI
 * block function chosen at run time and a portable C block function for
 * every other case. See include/csha256.h for the interface.
 *
 * The file needs no special compiler flags: the SHA-NI function carries its
 * own target attribute, and the CPU is asked once whether it may be used.
 */
#include "csha256.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CSHA256_HAVE_SHANI 1
#include <immintrin.h>
#else
#define CSHA256_HAVE_SHANI 0
#endif

/* FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* FIPS 180-4 §5.3.3: the first 32 bits of the fractional parts of the square
 * roots of the first 8 primes. */
static const uint32_t H256[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static inline uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---------------------------------------------------------------------------
 * Portable block function (FIPS 180-4 §4.1.2 functions, §6.2.2 computation).
 */

static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }
static inline uint32_t ch(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (~x & z); }
static inline uint32_t maj(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (x & z) ^ (y & z); }
static inline uint32_t big_sigma0(uint32_t x) { return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22); }
static inline uint32_t big_sigma1(uint32_t x) { return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25); }
static inline uint32_t small_sigma0(uint32_t x) { return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3); }
static inline uint32_t small_sigma1(uint32_t x) { return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10); }

static void blocks_portable(uint32_t state[8], const uint8_t *p, size_t blocks)
{
    while (blocks--) {
        uint32_t w[64];
        for (int t = 0; t < 16; t++) {
            w[t] = load_be32(p + 4 * t);
        }
        for (int t = 16; t < 64; t++) {
            w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];
        }

        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 64; t++) {
            uint32_t t1 = h + big_sigma1(e) + ch(e, f, g) + K256[t] + w[t];
            uint32_t t2 = big_sigma0(a) + maj(a, b, c);
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
        p += 64;
    }
}

/* ---------------------------------------------------------------------------
 * SHA-NI block function (x86-64 only).
 *
 * SHA256RNDS2 keeps the eight working variables in two registers, "ABEF"
 * (A in the top dword, F in the bottom one) and "CDGH", and does two rounds
 * per instruction, taking W[t]+K[t] and W[t+1]+K[t+1] from the low two
 * dwords of its third operand and returning the new ABEF; the new CDGH is the
 * old ABEF. SHA256MSG1 and SHA256MSG2 compute the message schedule four words
 * at a time:
 *   msg1(W[t-16..t-13], W[t-12..t-9]) = W[t-16+i] + sigma0(W[t-15+i])
 *   msg2(X, W[t-4..t-1])              = X[i] + sigma1(W[t-2+i]), i = 0..3,
 * where X already holds the W[t-7+i] term.
 */
#if CSHA256_HAVE_SHANI

/* Four rounds t..t+3 with message words m = W[t..t+3]. The first SHA256RNDS2
 * leaves the new ABEF in cdgh while abef, the old ABEF, is now the CDGH; the
 * second (W+K of rounds t+2, t+3 moved to the low half) swaps them back. */
#define SHANI_ROUNDS4(m, t)                                                                        \
    do {                                                                                           \
        __m128i wk_ = _mm_add_epi32((m), _mm_loadu_si128((const __m128i *)(const void *)&K256[t])); \
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_);                                             \
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk_, 0x0E));                    \
    } while (0)

/* m0 = W[t-16..t-13] becomes W[t..t+3]; m1, m2, m3 hold the three groups after it. */
#define SHANI_SCHEDULE(m0, m1, m2, m3)                                                             \
    (m0) = _mm_sha256msg2_epu32(                                                                   \
        _mm_add_epi32(_mm_sha256msg1_epu32((m0), (m1)), _mm_alignr_epi8((m3), (m2), 4)), (m3))

__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_shani(uint32_t state[8], const uint8_t *p, size_t blocks)
{
    /* Byte order of each 32-bit word reversed: message words are big-endian. */
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);

    /* state[0..7] = A..H; build ABEF and CDGH (dwords listed low to high). */
    __m128i abcd = _mm_loadu_si128((const __m128i *)(const void *)&state[0]); /* A B C D */
    __m128i efgh = _mm_loadu_si128((const __m128i *)(const void *)&state[4]); /* E F G H */
    abcd = _mm_shuffle_epi32(abcd, 0xB1);                                      /* B A D C */
    efgh = _mm_shuffle_epi32(efgh, 0x1B);                                      /* H G F E */
    __m128i abef = _mm_alignr_epi8(abcd, efgh, 8);                             /* F E B A */
    __m128i cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);                          /* H G D C */

    while (blocks--) {
        const __m128i abef_in = abef;
        const __m128i cdgh_in = cdgh;

        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 0)), bswap);
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)), bswap);
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 32)), bswap);
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 48)), bswap);

        SHANI_ROUNDS4(m0, 0);
        SHANI_ROUNDS4(m1, 4);
        SHANI_ROUNDS4(m2, 8);
        SHANI_ROUNDS4(m3, 12);
        for (int t = 16; t < 64; t += 16) {
            SHANI_SCHEDULE(m0, m1, m2, m3);
            SHANI_ROUNDS4(m0, t);
            SHANI_SCHEDULE(m1, m2, m3, m0);
            SHANI_ROUNDS4(m1, t + 4);
            SHANI_SCHEDULE(m2, m3, m0, m1);
            SHANI_ROUNDS4(m2, t + 8);
            SHANI_SCHEDULE(m3, m0, m1, m2);
            SHANI_ROUNDS4(m3, t + 12);
        }

        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
        p += 64;
    }

    /* Back to A..H order. */
    __m128i abef_fwd = _mm_shuffle_epi32(abef, 0x1B);  /* A B E F */
    __m128i ghcd = _mm_shuffle_epi32(cdgh, 0xB1);       /* G H C D */
    abcd = _mm_blend_epi16(abef_fwd, ghcd, 0xF0);      /* A B C D */
    efgh = _mm_alignr_epi8(ghcd, abef_fwd, 8);         /* E F G H */
    _mm_storeu_si128((__m128i *)(void *)&state[0], abcd);
    _mm_storeu_si128((__m128i *)(void *)&state[4], efgh);
}

#undef SHANI_ROUNDS4
#undef SHANI_SCHEDULE

#endif /* CSHA256_HAVE_SHANI */

/* ---------------------------------------------------------------------------
 * Dispatch. The CPU is probed once; concurrent first calls may each probe and
 * store the same answer, which atomics make well defined.
 */

static atomic_int force_portable_flag = 0; /* 1: always the portable path */

#if CSHA256_HAVE_SHANI
static atomic_int shani_state = 0; /* 0: not yet probed, 1: absent, 2: present */

static int shani_present(void)
{
    int s = atomic_load_explicit(&shani_state, memory_order_relaxed);
    if (s == 0) {
        __builtin_cpu_init();
        int ok = __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1") &&
                 __builtin_cpu_supports("ssse3");
        s = ok ? 2 : 1;
        atomic_store_explicit(&shani_state, s, memory_order_relaxed);
    }
    return s == 2;
}
#endif

static int use_shani(void)
{
#if CSHA256_HAVE_SHANI
    return !atomic_load_explicit(&force_portable_flag, memory_order_relaxed) && shani_present();
#else
    return 0;
#endif
}

static void process_blocks(uint32_t state[8], const uint8_t *p, size_t blocks)
{
    if (blocks == 0) {
        return;
    }
#if CSHA256_HAVE_SHANI
    if (use_shani()) {
        blocks_shani(state, p, blocks);
        return;
    }
#endif
    blocks_portable(state, p, blocks);
}

int csha256_accelerated(void) { return use_shani(); }

void csha256_force_portable(int on)
{
    atomic_store_explicit(&force_portable_flag, on ? 1 : 0, memory_order_relaxed);
}

/* ---------------------------------------------------------------------------
 * Public interface.
 */

void csha256_init(csha256_ctx *ctx)
{
    memcpy(ctx->state, H256, sizeof ctx->state);
    ctx->length = 0;
    ctx->buffered = 0;
}

void csha256_update(csha256_ctx *ctx, const void *data, size_t count)
{
    const uint8_t *p = (const uint8_t *)data;
    if (count == 0) {
        return;
    }
    ctx->length += (uint64_t)count;

    /* Top up a partial block first. */
    if (ctx->buffered != 0) {
        size_t room = 64u - ctx->buffered;
        size_t take = count < room ? count : room;
        memcpy(ctx->buffer + ctx->buffered, p, take);
        ctx->buffered += (uint32_t)take;
        p += take;
        count -= take;
        if (ctx->buffered < 64u) {
            return;
        }
        process_blocks(ctx->state, ctx->buffer, 1);
        ctx->buffered = 0;
    }

    /* Whole blocks straight from the caller's memory, in one call. */
    size_t whole = count / 64u;
    if (whole != 0) {
        process_blocks(ctx->state, p, whole);
        p += whole * 64u;
        count -= whole * 64u;
    }

    /* Keep the tail. */
    if (count != 0) {
        memcpy(ctx->buffer, p, count);
        ctx->buffered = (uint32_t)count;
    }
}

void csha256_final(csha256_ctx *ctx, uint8_t digest[32])
{
    /* FIPS 180-4 §5.1.1: a 1 bit, zeros, then the message length in bits as
     * a 64-bit big-endian number, filling a whole number of blocks. */
    uint64_t bits = ctx->length << 3;
    uint32_t used = ctx->buffered;
    ctx->buffer[used++] = 0x80;
    if (used > 56u) {
        memset(ctx->buffer + used, 0, 64u - used);
        process_blocks(ctx->state, ctx->buffer, 1);
        used = 0;
    }
    memset(ctx->buffer + used, 0, 56u - used);
    store_be32(ctx->buffer + 56, (uint32_t)(bits >> 32));
    store_be32(ctx->buffer + 60, (uint32_t)bits);
    process_blocks(ctx->state, ctx->buffer, 1);

    for (int i = 0; i < 8; i++) {
        store_be32(digest + 4 * i, ctx->state[i]);
    }
    memset(ctx, 0, sizeof *ctx);
}

void csha256(const void *data, size_t count, uint8_t digest[32])
{
    csha256_ctx ctx;
    csha256_init(&ctx);
    csha256_update(&ctx, data, count);
    csha256_final(&ctx, digest);
}
