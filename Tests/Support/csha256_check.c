/*
 * csha256_check.c — checks Sources/CSHA256 outside the Swift build.
 *
 *   cc -O2 -std=c11 -I Sources/CSHA256/include Sources/CSHA256/csha256.c \
 *      Tests/Support/csha256_check.c -o /tmp/csha256_check && /tmp/csha256_check [--bench]
 *
 * For the SHA-extension path (when this CPU has it) and the forced portable
 * path it checks:
 *   - the FIPS 180-4 example messages ("abc", the 448- and 896-bit messages),
 *     the empty message and one million 'a' (NIST published digests);
 *   - byte-oriented CAVP vectors from SHA256ShortMsg.rsp and SHA256LongMsg.rsp
 *     (CAVS 11.0), digests as published there;
 *   - each of the above also fed in 1-, 7- and 64-byte pieces;
 *   - a 200-byte message split in two at every offset 0..130, against one shot.
 * Then, when the CPU has SHA extensions, both paths on every length 0..1000
 * and on 2000 random lengths 0..1000 with random content.
 * One line per check; exit status 1 on any mismatch.
 *
 * --bench: one-shot hashes of 300-byte messages for 1 s on each path (and a
 * 1 MiB buffer for bulk speed), printing MB/s and hashes/s.
 */
#define _POSIX_C_SOURCE 200809L

#include "csha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures = 0;

static void to_hex(const uint8_t *bytes, size_t count, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < count; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * count] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex into a new buffer; *count gets its length. */
static uint8_t *from_hex(const char *hex, size_t *count)
{
    size_t n = strlen(hex) / 2;
    uint8_t *bytes = malloc(n ? n : 1);
    if (bytes == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++) {
        bytes[i] = (uint8_t)(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
    }
    *count = n;
    return bytes;
}

static void digest_in_pieces(const uint8_t *data, size_t count, size_t piece, uint8_t digest[32])
{
    csha256_ctx ctx;
    csha256_init(&ctx);
    for (size_t at = 0; at < count; at += piece) {
        size_t n = count - at < piece ? count - at : piece;
        csha256_update(&ctx, data + at, n);
    }
    csha256_final(&ctx, digest);
}

/* Known-answer vectors. `text` is the message as text, or NULL when `hex` is. */
struct vector {
    const char *name;
    const char *text;
    const char *hex;
    const char *digest;
};

static const struct vector vectors[] = {
    /* FIPS 180-4 / NIST "Examples with intermediate values" (SHA-256). */
    {"empty message", "", NULL, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"\"abc\" (one block)", "abc", NULL, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"448-bit abcdbcde... (two blocks)", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", NULL,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"896-bit abcdefgh... (two blocks)",
     "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
     NULL, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    /* CAVS 11.0 SHA256ShortMsg.rsp (byte oriented). */
    {"ShortMsg Len = 8", NULL, "d3", "28969cdfa74a12c82f3bad960b0b000aca2ac329deea5c2328ebc6f2ba9802c1"},
    {"ShortMsg Len = 16", NULL, "11af", "5ca7133fa735326081558ac312c620eeca9970d1e70a4b95533d956f072d1f98"},
    {"ShortMsg Len = 24", NULL, "b4190e", "dff2e73091f6c05e528896c4c831b9448653dc2ff043528f6769437bc7b975c2"},
    {"ShortMsg Len = 64", NULL, "5738c929c4f4ccb6",
     "963bb88f27f512777aab6c8b1a02c70ec0ad651d428f870036e1917120fb48bf"},
    {"ShortMsg Len = 448", NULL,
     "2d52447d1244d2ebc28650e7b05654bad35b3a68eedc7f8515306b496d75f3e73385dd1b002625024b81a02f2fd6dffb6e6d561cb7d0bd7a",
     "cfb88d6faf2de3a69d36195acec2e255e2af2b7d933997f348e09f6ce5758360"},
    {"ShortMsg Len = 504", NULL,
     "e2f76e97606a872e317439f1a03fcd92e632e5bd4e7cbc4e97f1afc19a16fde92d77cbe546416b51640cddb92af996534dfd81edb17c44"
     "24cf1ac4d75aceeb",
     "18041bd4665083001fba8c5411d2d748e8abbfdcdfd9218cb02b68a78e7d4c23"},
    {"ShortMsg Len = 512", NULL,
     "5a86b737eaea8ee976a0a24da63e7ed7eefad18a101c1211e2b3650c5187c2a8a650547208251f6d4237e661c7bf4c77f335390394c37f"
     "a1a9f9be836ac28509",
     "42e61e174fbb3897d6dd6cef3dd2802fe67b331953b06114a65c772859dfc1aa"},
    /* CAVS 11.0 SHA256LongMsg.rsp (byte oriented). */
    {"LongMsg Len = 1304", NULL,
     "451101250ec6f26652249d59dc974b7361d571a8101cdfd36aba3b5854d3ae086b5fdd4597721b66e3c0dc5d8c606d9657d0e323283a52"
     "17d1f53f2f284f57b85c8a61ac8924711f895c5ed90ef17745ed2d728abd22a5f7a13479a462d71b56c19a74a40b655c58edfe0a188ad2"
     "cf46cbf30524f65d423c837dd1ff2bf462ac4198007345bb44dbb7b1c861298cdf61982a833afc728fae1eda2f87aa2c9480858bec",
     "3c593aa539fdcdae516cdf2f15000f6634185c88f505b39775fb9ab137a10aa2"},
    {"LongMsg Len = 2096", NULL,
     "6b918fb1a5ad1f9c5e5dbdf10a93a9c8f6bca89f37e79c9fe12a57227941b173ac79d8d440cde8c64c4ebc84a4c803d198a296f3de0609"
     "00cc427f58ca6ec373084f95dd6c7c427ecfbf781f68be572a88dbcbb188581ab200bfb99a3a816407e7dd6dd21003554d4f7a99c93ebf"
     "ce5c302ff0e11f26f83fe669acefb0c1bbb8b1e909bd14aa48ba3445c88b0e1190eef765ad898ab8ca2fe507015f1578f10dce3c11a55f"
     "b9434ee6e9ad6cc0fdc4684447a9b3b156b908646360f24fec2d8fa69e2c93db78708fcd2eef743dcb9353819b8d667c48ed54cd436fb1"
     "476598c4a1d7028e6f2ff50751db36ab6bc32435152a00abd3d58d9a8770d9a3e52d5a3628ae3c9e0325",
     "46500b6ae1ab40bde097ef168b0f3199049b55545a1588792d39d594f493dca7"},
};

/* Checks one message: one shot, and fed in 1-, 7- and 64-byte pieces. */
static void check_message(const char *path, const char *name, const uint8_t *data, size_t count,
                          const char *expected)
{
    static const size_t pieces[] = {1, 7, 64};
    uint8_t digest[32];
    char hex[65];
    csha256(data, count, digest);
    to_hex(digest, 32, hex);
    int ok = strcmp(hex, expected) == 0;
    int pieces_ok = 1;
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        char piece_hex[65];
        digest_in_pieces(data, count, pieces[i], digest);
        to_hex(digest, 32, piece_hex);
        pieces_ok &= strcmp(piece_hex, expected) == 0;
    }
    printf("%-4s %-10s %-34s %s%s\n", ok && pieces_ok ? "ok" : "FAIL", path, name, hex,
           pieces_ok ? "" : "  (piecewise update differs)");
    if (!ok) {
        printf("     expected %s\n", expected);
    }
    if (!(ok && pieces_ok)) {
        failures++;
    }
}

static void check_path(const char *path)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct vector *v = &vectors[i];
        if (v->text != NULL) {
            check_message(path, v->name, (const uint8_t *)v->text, strlen(v->text), v->digest);
        } else {
            size_t count;
            uint8_t *data = from_hex(v->hex, &count);
            check_message(path, v->name, data, count, v->digest);
            free(data);
        }
    }

    /* FIPS 180-4 / NIST: one million repetitions of 'a'. */
    size_t million = 1000000;
    uint8_t *as = malloc(million);
    if (as == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memset(as, 'a', million);
    check_message(path, "1,000,000 x 'a'", as, million,
                  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(as);

    /* A 200-byte message split in two at every offset 0..130. */
    uint8_t message[200], whole[32], split[32];
    for (size_t i = 0; i < sizeof message; i++) {
        message[i] = (uint8_t)(i * 37 + 11);
    }
    csha256(message, sizeof message, whole);
    int bad_splits = 0;
    for (size_t at = 0; at <= 130; at++) {
        csha256_ctx ctx;
        csha256_init(&ctx);
        csha256_update(&ctx, message, at);
        csha256_update(&ctx, message + at, sizeof message - at);
        csha256_final(&ctx, split);
        if (memcmp(split, whole, 32) != 0) {
            printf("FAIL %-10s split 200-byte message at %zu\n", path, at);
            bad_splits++;
        }
    }
    printf("%-4s %-10s %-34s 131 splits, %d differ\n", bad_splits ? "FAIL" : "ok", path,
           "200 bytes split at 0..130", bad_splits);
    failures += bad_splits;
}

/* xorshift64*: deterministic test data. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static int paths_agree(const uint8_t *data, size_t count)
{
    uint8_t portable[32], accelerated[32];
    csha256_force_portable(1);
    csha256(data, count, portable);
    csha256_force_portable(0);
    csha256(data, count, accelerated);
    return memcmp(portable, accelerated, 32) == 0;
}

static void compare_paths(void)
{
    uint8_t data[1000];
    for (size_t i = 0; i < sizeof data; i++) {
        data[i] = (uint8_t)next_random();
    }
    int bad = 0;
    for (size_t count = 0; count <= 1000; count++) {
        if (!paths_agree(data, count)) {
            printf("FAIL paths differ at length %zu\n", count);
            bad++;
        }
    }
    printf("%-4s both paths, every length 0..1000: %d differ\n", bad ? "FAIL" : "ok", bad);
    failures += bad;

    bad = 0;
    for (int trial = 0; trial < 2000; trial++) {
        size_t count = (size_t)(next_random() % 1001);
        for (size_t i = 0; i < count; i++) {
            data[i] = (uint8_t)next_random();
        }
        if (!paths_agree(data, count)) {
            printf("FAIL paths differ on random trial %d, length %zu\n", trial, count);
            bad++;
        }
    }
    printf("%-4s both paths, 2000 random lengths 0..1000 with random content: %d differ\n", bad ? "FAIL" : "ok",
           bad);
    failures += bad;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Hashes `size`-byte messages one shot for about a second; returns hashes/s. */
static double bench(const char *path, size_t size, uint8_t *message)
{
    uint8_t digest[32] = {0};
    unsigned long long hashes = 0;
    double start = now_seconds(), elapsed;
    do {
        for (int i = 0; i < 64; i++) {
            memcpy(message, digest, 8); /* each message depends on the last digest */
            csha256(message, size, digest);
        }
        hashes += 64;
        elapsed = now_seconds() - start;
    } while (elapsed < 1.0);
    double per_second = (double)hashes / elapsed;
    char hex[17];
    to_hex(digest, 8, hex);
    printf("bench %-10s %8zu-byte messages: %10.1f MB/s  %12.0f hashes/s  (last %s...)\n", path, size,
           per_second * (double)size / 1e6, per_second, hex);
    return per_second;
}

static void run_bench(int have_sha)
{
    static const size_t sizes[] = {300, 1u << 20};
    uint8_t *message = malloc(1u << 20);
    if (message == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (size_t i = 0; i < sizes[s]; i++) {
            message[i] = (uint8_t)i;
        }
        double accelerated = 0;
        if (have_sha) {
            csha256_force_portable(0);
            accelerated = bench("sha-ni", sizes[s], message);
            for (size_t i = 0; i < sizes[s]; i++) {
                message[i] = (uint8_t)i;
            }
        }
        csha256_force_portable(1);
        double portable = bench("portable", sizes[s], message);
        csha256_force_portable(0);
        if (have_sha) {
            printf("bench speedup %8zu-byte messages: %.2fx\n", sizes[s], accelerated / portable);
        }
    }
    free(message);
}

int main(int argc, char **argv)
{
    int want_bench = argc > 1 && strcmp(argv[1], "--bench") == 0;

    csha256_force_portable(0);
    int have_sha = csha256_accelerated();
    printf("CPU SHA extensions in use by default: %s\n", have_sha ? "yes" : "no");

    if (have_sha) {
        check_path("sha-ni");
    } else {
        printf("skip sha-ni     (this CPU or architecture has no SHA-extension path)\n");
    }

    csha256_force_portable(1);
    if (csha256_accelerated()) {
        printf("FAIL csha256_accelerated() is 1 while the portable path is forced\n");
        failures++;
    }
    check_path("portable");
    csha256_force_portable(0);

    if (have_sha) {
        compare_paths();
    } else {
        printf("skip path comparison (only the portable path exists here)\n");
    }

    if (want_bench) {
        run_bench(have_sha);
    }

    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
