/*
 * csha256.h — SHA-256 (FIPS 180-4) for ramp.
 *
 * On x86-64 the block function uses the CPU's SHA extensions (SHA-NI) when
 * the processor has them, chosen once at run time; everywhere else, and on
 * x86-64 processors without them, a portable C implementation is used. Both
 * paths give identical digests.
 *
 * Plain C99/C11, self-contained: include it from C, or import it from Swift
 * as the clang module CSHA256.
 *
 * Usage, incremental:
 *
 *     csha256_ctx ctx;
 *     csha256_init(&ctx);
 *     csha256_update(&ctx, part1, len1);
 *     csha256_update(&ctx, part2, len2);
 *     csha256_final(&ctx, digest);      // digest: 32 bytes
 *
 * or one shot: csha256(data, len, digest).
 *
 * A context is plain data: it can be copied (to hash a common prefix once and
 * finish several messages from it) and needs no clean-up. One context must
 * not be used by two threads at once; different contexts are independent.
 */
#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Running state of one SHA-256 computation. Treat the fields as private. */
typedef struct csha256_ctx {
    uint32_t state[8];   /* intermediate hash value H0..H7 */
    uint64_t length;     /* bytes passed to csha256_update so far */
    uint8_t buffer[64];  /* a partial block waiting for more input */
    uint32_t buffered;   /* bytes in buffer, 0..63 */
} csha256_ctx;

/* Starts a new computation (FIPS 180-4 §5.3.3 initial hash value). */
void csha256_init(csha256_ctx *ctx);

/* Hashes `count` more bytes from `data` (which may be NULL when count is 0).
 * Whole 64-byte blocks are hashed straight from `data`; only a tail shorter
 * than a block is copied into the context. */
void csha256_update(csha256_ctx *ctx, const void *data, size_t count);

/* Pads the message, writes the 32-byte digest, and leaves the context
 * finished: call csha256_init before using it again. */
void csha256_final(csha256_ctx *ctx, uint8_t digest[32]);

/* One shot: digest = SHA-256(data[0 ..< count]). */
void csha256(const void *data, size_t count, uint8_t digest[32]);

/* 1 when hashing currently goes through the SHA-extension path (the CPU has
 * it and csha256_force_portable is off), else 0. */
int csha256_accelerated(void);

/* For tests and benchmarks: 1 makes every later block go through the portable
 * C path; 0 returns to the automatic choice. Takes effect for the next
 * csha256_update/csha256_final call in any thread; digests do not change. */
void csha256_force_portable(int on);

#ifdef __cplusplus
}
#endif

#endif /* CSHA256_H */
