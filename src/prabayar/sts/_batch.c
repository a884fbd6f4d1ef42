/*
 * prabayar.sts._batch: the batch token engine in C (many tokens per call).
 *
 * Written for prabayar from the same descriptions as the per-token Python engine, which stays
 * the readable reference: every function here is checked against it (tests/sts/test_batch.py).
 *
 *   STA (EA07)     byte tables built at setup() from the S-boxes and permutation that
 *                  prabayar.sts.ciphers.sta holds; one round = 8 lookups.
 *   MISTY1 (EA11)  RFC 2994, S7/S9 handed over by setup() from prabayar.sts.ciphers.
 *   DES (EA09, DKGA02)  FIPS 46-3: the tables below are the standard's; checked against
 *                  cryptography's TripleDES(K|K|K) in the tests.
 *   CRC-16/MODBUS  as prabayar.sts.crc.
 *
 * Blocks are unsigned 64-bit integers, big-endian as STS serialises them. A token value has 66
 * bits, so unsigned __int128 is used for reading and writing the 20 digits.
 *
 * Input sequences are read into C arrays with the GIL held, the cipher work runs without it,
 * and the results are turned into Python objects with the GIL again.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#ifndef __SIZEOF_INT128__
#error "the batch engine needs unsigned __int128 (gcc or clang on a 64-bit target)"
#endif
typedef unsigned __int128 u128;

enum { ALG_NONE = 0, ALG_STA = 7, ALG_DEA = 9, ALG_MISTY1 = 11 };

#define CLASS_BITS ((uint64_t)3 << 27)
#define TEN10 10000000000ULL

/* ------------------------------------------------------------------ tables set at setup() */

static int g_ready = 0;
static uint64_t sta_enc[8][4][256];   /* substitution + permutation of byte j, selector s */
static uint64_t sta_dec[8][4][256];   /* inverse substitution + inverse permutation */
static uint64_t sta_last[8][4][256];  /* inverse substitution only (round 0 of decryption) */
static uint64_t sta_unperm[8][256];   /* inverse permutation only */
static uint8_t misty_s7[128];
static uint16_t misty_s9[512];
static uint16_t crc_table[256];

/* ------------------------------------------------------------------ DES (FIPS 46-3) */

static const uint8_t DES_IP[64] = {
    58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
    62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
    57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
    61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
};
static const uint8_t DES_P[32] = {
    16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
    2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
};
static const uint8_t DES_PC1[56] = {
    57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
    10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
    63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
    14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
};
static const uint8_t DES_PC2[48] = {
    14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10,
    23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
    41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
    44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
};
static const uint8_t DES_SHIFTS[16] = {1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1};
static const uint8_t DES_S[8][64] = {
    {14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
     0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
     4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
     15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13},
    {15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
     3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
     0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
     13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9},
    {10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
     13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
     13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
     1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12},
    {7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
     13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
     10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
     3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14},
    {2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
     14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
     4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
     11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3},
    {12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
     10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
     9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
     4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13},
    {4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
     13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
     1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
     6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12},
    {13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
     1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
     7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
     2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11},
};

static uint64_t des_ip_tab[8][256];  /* IP applied to byte i (0 = most significant) */
static uint64_t des_fp_tab[8][256];  /* IP^-1 likewise */
static uint32_t des_sp[8][64];       /* S-box i then P, for the 6-bit input of box i */

/* FIPS numbering: bit 1 is the most significant of an n-bit value. */
static uint64_t permute_bits(uint64_t in, int in_bits, const uint8_t *table, int out_bits)
{
    uint64_t out = 0;
    for (int j = 0; j < out_bits; j++)
        out = (out << 1) | ((in >> (in_bits - table[j])) & 1);
    return out;
}

static void des_setup(void)
{
    uint8_t fp[64];
    for (int j = 0; j < 64; j++)
        fp[DES_IP[j] - 1] = (uint8_t)(j + 1);
    for (int i = 0; i < 8; i++)
        for (int b = 0; b < 256; b++) {
            uint64_t v = (uint64_t)b << (56 - 8 * i);
            des_ip_tab[i][b] = permute_bits(v, 64, DES_IP, 64);
            des_fp_tab[i][b] = permute_bits(v, 64, fp, 64);
        }
    for (int i = 0; i < 8; i++)
        for (int b = 0; b < 64; b++) {
            int row = ((b >> 4) & 2) | (b & 1);
            int col = (b >> 1) & 15;
            uint64_t s = (uint64_t)DES_S[i][row * 16 + col] << (28 - 4 * i);
            des_sp[i][b] = (uint32_t)permute_bits(s, 32, DES_P, 32);
        }
}

typedef struct {
    uint8_t k[16][8]; /* 16 round keys, 8 six-bit groups each */
} des_key_t;

static void des_schedule(des_key_t *ks, uint64_t key)
{
    uint64_t cd = permute_bits(key, 64, DES_PC1, 56);
    uint32_t c = (uint32_t)(cd >> 28) & 0x0FFFFFFF, d = (uint32_t)cd & 0x0FFFFFFF;
    for (int r = 0; r < 16; r++) {
        int s = DES_SHIFTS[r];
        c = ((c << s) | (c >> (28 - s))) & 0x0FFFFFFF;
        d = ((d << s) | (d >> (28 - s))) & 0x0FFFFFFF;
        uint64_t k48 = permute_bits(((uint64_t)c << 28) | d, 56, DES_PC2, 48);
        for (int i = 0; i < 8; i++)
            ks->k[r][i] = (uint8_t)((k48 >> (42 - 6 * i)) & 0x3F);
    }
}

static inline uint64_t byte_permute(const uint64_t tab[8][256], uint64_t v)
{
    return tab[0][v >> 56] | tab[1][(v >> 48) & 255] | tab[2][(v >> 40) & 255] | tab[3][(v >> 32) & 255]
         | tab[4][(v >> 24) & 255] | tab[5][(v >> 16) & 255] | tab[6][(v >> 8) & 255] | tab[7][v & 255];
}

static inline uint32_t des_f(uint32_t r, const uint8_t *k)
{
    /* E as eight overlapping 6-bit windows of R with its ends wrapped around */
    uint64_t x = ((uint64_t)(r & 1) << 33) | ((uint64_t)r << 1) | (r >> 31);
    uint32_t out = 0;
    for (int i = 0; i < 8; i++)
        out |= des_sp[i][((x >> (28 - 4 * i)) & 0x3F) ^ k[i]];
    return out;
}

static uint64_t des_crypt(const des_key_t *ks, uint64_t block, int decrypt)
{
    uint64_t v = byte_permute(des_ip_tab, block);
    uint32_t l = (uint32_t)(v >> 32), r = (uint32_t)v;
    for (int i = 0; i < 16; i++) {
        uint32_t t = r;
        r = l ^ des_f(r, ks->k[decrypt ? 15 - i : i]);
        l = t;
    }
    return byte_permute(des_fp_tab, ((uint64_t)r << 32) | l);
}

/* ------------------------------------------------------------------ STA (EA07) */

static uint64_t sta_perm_apply(uint64_t value, const uint8_t *perm)
{
    uint64_t out = 0;
    for (int i = 0; i < 64; i++)
        if ((value >> i) & 1)
            out |= (uint64_t)1 << perm[i];
    return out;
}

static int sta_setup(const uint8_t *s1, const uint8_t *s2, const uint8_t *perm)
{
    uint8_t s1i[16], s2i[16], permi[64];
    for (int i = 0; i < 16; i++) {
        s1i[s1[i]] = (uint8_t)i;
        s2i[s2[i]] = (uint8_t)i;
    }
    for (int i = 0; i < 64; i++)
        permi[perm[i]] = (uint8_t)i;
    for (int j = 0; j < 8; j++)
        for (int sel = 0; sel < 4; sel++) {
            const uint8_t *lo = (sel & 1) ? s2 : s1, *hi = (sel & 2) ? s2 : s1;
            const uint8_t *loi = (sel & 1) ? s2i : s1i, *hii = (sel & 2) ? s2i : s1i;
            for (int b = 0; b < 256; b++) {
                uint64_t fwd = (uint64_t)(lo[b & 15] | hi[b >> 4] << 4) << (8 * j);
                uint64_t inv = (uint64_t)(loi[b & 15] | hii[b >> 4] << 4) << (8 * j);
                sta_enc[j][sel][b] = sta_perm_apply(fwd, perm);
                sta_dec[j][sel][b] = sta_perm_apply(inv, permi);
                sta_last[j][sel][b] = inv;
            }
        }
    for (int j = 0; j < 8; j++)
        for (int b = 0; b < 256; b++)
            sta_unperm[j][b] = sta_perm_apply((uint64_t)b << (8 * j), permi);
    return 0;
}

typedef struct {
    const uint64_t *enc[16][8];
    const uint64_t *dec[15][8];
    const uint64_t *last[8];
} sta_key_t;

static inline int key_sel(uint64_t k, int j, int r)
{
    int a = (8 * j + 3 - r + 64) & 63, b = (8 * j + 7 - r + 64) & 63;
    return (int)((k >> a) & 1) | (int)(((k >> b) & 1) << 1);
}

static void sta_schedule(sta_key_t *ks, uint64_t key, int decrypt)
{
    uint64_t inv = ~key;
    uint64_t k = (inv >> 12) | (inv << 52); /* complement, rotate right by 12 */
    if (!decrypt) {
        for (int r = 0; r < 16; r++)
            for (int j = 0; j < 8; j++)
                ks->enc[r][j] = sta_enc[j][key_sel(k, j, r)];
    } else {
        for (int r = 15; r >= 1; r--)
            for (int j = 0; j < 8; j++)
                ks->dec[15 - r][j] = sta_dec[j][key_sel(k, j, r)];
        for (int j = 0; j < 8; j++)
            ks->last[j] = sta_last[j][key_sel(k, j, 0)];
    }
}

#define STA_ROUND(t, d) \
    ((t)[0][(d) & 255] | (t)[1][((d) >> 8) & 255] | (t)[2][((d) >> 16) & 255] | (t)[3][((d) >> 24) & 255] \
     | (t)[4][((d) >> 32) & 255] | (t)[5][((d) >> 40) & 255] | (t)[6][((d) >> 48) & 255] | (t)[7][(d) >> 56])

static inline uint64_t sta_encrypt(const sta_key_t *ks, uint64_t d)
{
    for (int r = 0; r < 16; r++)
        d = STA_ROUND(ks->enc[r], d);
    return d;
}

static inline uint64_t sta_decrypt(const sta_key_t *ks, uint64_t d)
{
    d = STA_ROUND(sta_unperm, d);
    for (int r = 0; r < 15; r++)
        d = STA_ROUND(ks->dec[r], d);
    return STA_ROUND(ks->last, d);
}

/* ------------------------------------------------------------------ MISTY1 (EA11) */

typedef struct {
    uint16_t ek[16];
} misty_key_t;

static inline uint16_t misty_fi(uint16_t x, uint16_t key)
{
    uint16_t d9 = x >> 7, d7 = x & 0x7F;
    d9 = misty_s9[d9] ^ d7;
    d7 = (misty_s7[d7] ^ d9) & 0x7F;
    d7 ^= key >> 9;
    d9 ^= key & 0x1FF;
    d9 = misty_s9[d9] ^ d7;
    return (uint16_t)((d7 << 9) | d9);
}

static void misty_schedule(misty_key_t *ks, const uint8_t *key)
{
    for (int i = 0; i < 8; i++)
        ks->ek[i] = (uint16_t)(key[2 * i] << 8 | key[2 * i + 1]);
    for (int i = 0; i < 8; i++)
        ks->ek[8 + i] = misty_fi(ks->ek[i], ks->ek[(i + 1) % 8]);
}

static inline uint32_t misty_fo(const uint16_t *ek, uint32_t x, int k)
{
    uint16_t t0 = (uint16_t)(x >> 16), t1 = (uint16_t)x;
    t0 ^= ek[k];
    t0 = misty_fi(t0, ek[(k + 5) % 8 + 8]);
    t0 ^= t1;
    t1 ^= ek[(k + 2) % 8];
    t1 = misty_fi(t1, ek[(k + 1) % 8 + 8]);
    t1 ^= t0;
    t0 ^= ek[(k + 7) % 8];
    t0 = misty_fi(t0, ek[(k + 3) % 8 + 8]);
    t0 ^= t1;
    t1 ^= ek[(k + 4) % 8];
    return ((uint32_t)t1 << 16) | t0;
}

static inline uint32_t misty_fl(const uint16_t *ek, uint32_t x, int k)
{
    uint16_t d0 = (uint16_t)(x >> 16), d1 = (uint16_t)x;
    if (k % 2 == 0) {
        d1 ^= d0 & ek[k / 2];
        d0 ^= d1 | ek[(k / 2 + 6) % 8 + 8];
    } else {
        d1 ^= d0 & ek[((k - 1) / 2 + 2) % 8 + 8];
        d0 ^= d1 | ek[((k - 1) / 2 + 4) % 8];
    }
    return ((uint32_t)d0 << 16) | d1;
}

static inline uint32_t misty_fl_inv(const uint16_t *ek, uint32_t x, int k)
{
    uint16_t d0 = (uint16_t)(x >> 16), d1 = (uint16_t)x;
    if (k % 2 == 0) {
        d0 ^= d1 | ek[(k / 2 + 6) % 8 + 8];
        d1 ^= d0 & ek[k / 2];
    } else {
        d0 ^= d1 | ek[((k - 1) / 2 + 4) % 8];
        d1 ^= d0 & ek[((k - 1) / 2 + 2) % 8 + 8];
    }
    return ((uint32_t)d0 << 16) | d1;
}

static uint64_t misty_encrypt(const misty_key_t *ks, uint64_t block)
{
    const uint16_t *ek = ks->ek;
    uint32_t d0 = (uint32_t)(block >> 32), d1 = (uint32_t)block;
    for (int r = 0; r < 8; r += 2) {
        d0 = misty_fl(ek, d0, r);
        d1 = misty_fl(ek, d1, r + 1);
        d1 ^= misty_fo(ek, d0, r);
        d0 ^= misty_fo(ek, d1, r + 1);
    }
    d0 = misty_fl(ek, d0, 8);
    d1 = misty_fl(ek, d1, 9);
    return ((uint64_t)d1 << 32) | d0;
}

static uint64_t misty_decrypt(const misty_key_t *ks, uint64_t block)
{
    const uint16_t *ek = ks->ek;
    uint32_t d0 = (uint32_t)block, d1 = (uint32_t)(block >> 32);
    d0 = misty_fl_inv(ek, d0, 8);
    d1 = misty_fl_inv(ek, d1, 9);
    for (int r = 6; r >= 0; r -= 2) {
        d0 ^= misty_fo(ek, d1, r + 1);
        d1 ^= misty_fo(ek, d0, r);
        d0 = misty_fl_inv(ek, d0, r);
        d1 = misty_fl_inv(ek, d1, r + 1);
    }
    return ((uint64_t)d0 << 32) | d1;
}

/* ------------------------------------------------------------------ one cipher, one key */

typedef struct {
    int alg;
    int decrypt;
    union {
        sta_key_t sta;
        misty_key_t misty;
        des_key_t des;
    } u;
} cipher_t;

static inline uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static int key_length(int alg)
{
    switch (alg) {
    case ALG_STA:
    case ALG_DEA:
        return 8;
    case ALG_MISTY1:
        return 16;
    case ALG_NONE:
        return 0;
    default:
        return -1;
    }
}

static void cipher_init(cipher_t *c, int alg, const uint8_t *key, int decrypt)
{
    c->alg = alg;
    c->decrypt = decrypt;
    if (alg == ALG_STA)
        sta_schedule(&c->u.sta, load_be64(key), decrypt);
    else if (alg == ALG_MISTY1)
        misty_schedule(&c->u.misty, key);
    else if (alg == ALG_DEA)
        des_schedule(&c->u.des, load_be64(key));
}

static inline uint64_t cipher_run(const cipher_t *c, uint64_t block)
{
    switch (c->alg) {
    case ALG_STA:
        return c->decrypt ? sta_decrypt(&c->u.sta, block) : sta_encrypt(&c->u.sta, block);
    case ALG_MISTY1:
        return c->decrypt ? misty_decrypt(&c->u.misty, block) : misty_encrypt(&c->u.misty, block);
    case ALG_DEA:
        return des_crypt(&c->u.des, block, c->decrypt);
    default:
        return block;
    }
}

/* ------------------------------------------------------------------ CRC, class bits, digits */

static inline uint16_t crc_field(int token_class, uint64_t block, int currency)
{
    uint64_t v = ((uint64_t)token_class << 48) | (block >> 16);
    uint16_t crc = 0xFFFF;
    for (int shift = 48; shift >= 0; shift -= 8)
        crc = (crc >> 8) ^ crc_table[(crc ^ (v >> shift)) & 0xFF];
    if (currency)
        crc = (crc >> 8) ^ crc_table[(crc ^ 0x01) & 0xFF];
    return (uint16_t)(((crc & 0xFF) << 8) | (crc >> 8));
}

static inline int is_currency(int token_class, uint64_t block)
{
    uint64_t sub = block >> 60;
    return token_class == 0 && sub >= 4 && sub <= 7;
}

static inline uint64_t plaintext(int token_class, uint64_t packed)
{
    return packed | crc_field(token_class, packed, is_currency(token_class, packed));
}

/* the 66-bit value: class into bits 28/27, the bits it displaces to 65/64 */
static inline u128 insert_class(uint64_t block, int token_class)
{
    uint64_t hi = (((block >> 28) & 1) << 1) | ((block >> 27) & 1);
    uint64_t lo = (block & ~CLASS_BITS) | ((uint64_t)(token_class & 3) << 27);
    return ((u128)hi << 64) | lo;
}

static const char DIGIT_PAIRS[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static inline void write10(char *out, uint64_t v)
{
    for (int i = 8; i >= 0; i -= 2) {
        memcpy(out + i, DIGIT_PAIRS + 2 * (v % 100), 2);
        v /= 100;
    }
}

static inline void write20(char *out, u128 value)
{
    /* value = hi * 2^64 + lo with hi <= 3 and 2^64 = 1844674407 * 10^10 + 3709551616 */
    uint64_t hi = (uint64_t)(value >> 64), lo = (uint64_t)value;
    uint64_t rest = hi * 3709551616ULL + lo % TEN10;
    uint64_t top = hi * 1844674407ULL + lo / TEN10 + rest / TEN10;
    write10(out, top);
    write10(out + 10, rest % TEN10);
}

/* 1 and the value if s is exactly 20 ASCII digits, else 0 */
static inline int read20(const char *s, Py_ssize_t n, u128 *value)
{
    if (n != 20)
        return 0;
    uint64_t a = 0, b = 0;
    for (int i = 0; i < 10; i++) {
        unsigned da = (unsigned char)s[i] - '0', db = (unsigned char)s[i + 10] - '0';
        if (da > 9 || db > 9)
            return 0;
        a = a * 10 + da;
        b = b * 10 + db;
    }
    *value = (u128)a * TEN10 + b;
    return 1;
}

/* ------------------------------------------------------------------ Python helpers */

static int check_ready(void)
{
    if (!g_ready) {
        PyErr_SetString(PyExc_RuntimeError, "prabayar.sts._batch.setup() has not been called");
        return 0;
    }
    return 1;
}

static int check_key(int alg, Py_buffer *key, Py_ssize_t count)
{
    int klen = key_length(alg);
    if (klen < 0) {
        PyErr_Format(PyExc_ValueError, "unknown algorithm code %d", alg);
        return 0;
    }
    if (key->len != (Py_ssize_t)klen * count) {
        PyErr_Format(PyExc_ValueError, "expected %zd key bytes, got %zd", (Py_ssize_t)klen * count, key->len);
        return 0;
    }
    return 1;
}

/* Read a sequence of unsigned ints below 2**bits (bits <= 64) into a new array. On a bad item
   raise IndexError-free ValueError naming the index, so the caller can rebuild the typed error. */
static uint64_t *read_uints(PyObject *seq, Py_ssize_t *n_out, int bits, const char *what)
{
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of integers");
    if (!fast)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject **items = PySequence_Fast_ITEMS(fast);
    uint64_t *out = PyMem_Malloc(sizeof(uint64_t) * (size_t)(n ? n : 1));
    if (!out) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = items[i];
        uint64_t v = 0;
        int bad = !PyLong_Check(o) || PyBool_Check(o);
        if (!bad) {
            v = PyLong_AsUnsignedLongLong(o);
            if (v == (uint64_t)-1 && PyErr_Occurred()) {
                PyErr_Clear();
                bad = 1;
            } else if (bits < 64 && v >> bits) {
                bad = 1;
            }
        }
        if (bad) {
            PyErr_Format(PyExc_ValueError, "bad %s at index %zd", what, i);
            PyMem_Free(out);
            Py_DECREF(fast);
            return NULL;
        }
        out[i] = v;
    }
    Py_DECREF(fast);
    *n_out = n;
    return out;
}

/* An int broadcast to n items, or a sequence of n ints. */
static uint64_t *read_uints_or_scalar(PyObject *obj, Py_ssize_t n, int bits, const char *what)
{
    if (PyLong_Check(obj) && !PyBool_Check(obj)) {
        uint64_t v = PyLong_AsUnsignedLongLong(obj);
        if ((v == (uint64_t)-1 && PyErr_Occurred()) || (bits < 64 && v >> bits)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "bad %s at index 0", what);
            return NULL;
        }
        uint64_t *out = PyMem_Malloc(sizeof(uint64_t) * (size_t)(n ? n : 1));
        if (!out) {
            PyErr_NoMemory();
            return NULL;
        }
        for (Py_ssize_t i = 0; i < n; i++)
            out[i] = v;
        return out;
    }
    Py_ssize_t m = 0;
    uint64_t *out = read_uints(obj, &m, bits, what);
    if (out && m != n) {
        PyMem_Free(out);
        PyErr_Format(PyExc_ValueError, "%s: expected %zd items, got %zd", what, n, m);
        return NULL;
    }
    return out;
}

static PyObject *digits_list(const u128 *values, Py_ssize_t n)
{
    PyObject *list = PyList_New(n);
    if (!list)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyUnicode_New(20, 127);
        if (!s) {
            Py_DECREF(list);
            return NULL;
        }
        write20((char *)PyUnicode_1BYTE_DATA(s), values[i]);
        PyList_SET_ITEM(list, i, s);
    }
    return list;
}

/* Encrypt (or not, class 1) packed blocks; block i under key i / per_key (per_key 0: one key). */
static void encode_core(int alg, const uint8_t *keys, Py_ssize_t per_key, int token_class, const uint64_t *blocks,
                        Py_ssize_t n, u128 *out)
{
    cipher_t c;
    int klen = key_length(alg);
    Py_ssize_t current = -1;
    if (token_class != 1 && per_key == 0)
        cipher_init(&c, alg, keys, 0);
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t pt = plaintext(token_class, blocks[i]);
        uint64_t ct = pt;
        if (token_class != 1) {
            if (per_key && i / per_key != current) {
                current = i / per_key;
                cipher_init(&c, alg, keys + current * klen, 0);
            }
            ct = cipher_run(&c, pt);
        }
        out[i] = insert_class(ct, token_class);
    }
}

/* ------------------------------------------------------------------ module functions */

PyDoc_STRVAR(setup_doc, "setup(sta_s1, sta_s2, sta_perm, misty_s7, misty_s9, crc_table)\n--\n\n"
                        "Build the lookup tables from the per-token engine's constants (once).");

static int copy_table(PyObject *seq, Py_ssize_t n, unsigned limit, void *dst, int width)
{
    Py_ssize_t m = 0;
    uint64_t *vals = read_uints(seq, &m, 32, "table entry");
    if (!vals)
        return 0;
    if (m != n) {
        PyMem_Free(vals);
        PyErr_Format(PyExc_ValueError, "a table of %zd entries expected, got %zd", n, m);
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (vals[i] >= limit) {
            PyMem_Free(vals);
            PyErr_SetString(PyExc_ValueError, "table entry out of range");
            return 0;
        }
        if (width == 1)
            ((uint8_t *)dst)[i] = (uint8_t)vals[i];
        else
            ((uint16_t *)dst)[i] = (uint16_t)vals[i];
    }
    PyMem_Free(vals);
    return 1;
}

static PyObject *py_setup(PyObject *self, PyObject *args)
{
    PyObject *s1o, *s2o, *po, *s7o, *s9o, *crco;
    uint8_t s1[16], s2[16], perm[64];
    if (!PyArg_ParseTuple(args, "OOOOOO", &s1o, &s2o, &po, &s7o, &s9o, &crco))
        return NULL;
    if (!copy_table(s1o, 16, 16, s1, 1) || !copy_table(s2o, 16, 16, s2, 1) || !copy_table(po, 64, 64, perm, 1)
        || !copy_table(s7o, 128, 128, misty_s7, 1) || !copy_table(s9o, 512, 512, misty_s9, 2)
        || !copy_table(crco, 256, 65536, crc_table, 2))
        return NULL;
    sta_setup(s1, s2, perm);
    des_setup();
    g_ready = 1;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(encode_doc, "encode(alg, keys, token_class, blocks, per_key)\n--\n\n"
                         "20-digit tokens of packed data blocks (bits 15..0 zero): CRC, encryption, class bits.\n"
                         "per_key 0: ``keys`` is one key; else block i is encrypted with key i // per_key.");

static PyObject *py_encode(PyObject *self, PyObject *args)
{
    int alg, token_class;
    Py_ssize_t per_key, n = 0;
    Py_buffer keys;
    PyObject *blocks_obj, *result = NULL;
    if (!check_ready() || !PyArg_ParseTuple(args, "iy*iOn", &alg, &keys, &token_class, &blocks_obj, &per_key))
        return NULL;
    uint64_t *blocks = NULL;
    u128 *values = NULL;
    if (token_class < 0 || token_class > 2 || per_key < 0) {
        PyErr_SetString(PyExc_ValueError, "token class 0..2 and per_key >= 0");
        goto done;
    }
    blocks = read_uints(blocks_obj, &n, 64, "block");
    if (!blocks)
        goto done;
    if (token_class != 1) {
        Py_ssize_t nkeys = per_key ? (n + per_key - 1) / per_key : 1;
        if (!check_key(alg, &keys, nkeys))
            goto done;
    }
    values = PyMem_Malloc(sizeof(u128) * (size_t)(n ? n : 1));
    if (!values) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    encode_core(alg, keys.buf, per_key, token_class, blocks, n, values);
    Py_END_ALLOW_THREADS
    result = digits_list(values, n);
done:
    PyMem_Free(blocks);
    PyMem_Free(values);
    PyBuffer_Release(&keys);
    return result;
}

PyDoc_STRVAR(encode_fields_doc,
             "encode_fields(alg, key, token_class, subclass, tids, values, rnds)\n--\n\n"
             "Tokens of the RND/TID/16-bit value layout (class 0 subclasses 0-3, class 2 value tokens):\n"
             "subclass << 60 | rnd << 56 | tid << 32 | value << 16. ``values`` and ``rnds`` may be one int.");

static PyObject *py_encode_fields(PyObject *self, PyObject *args)
{
    int alg, token_class, subclass;
    Py_buffer key;
    PyObject *tids_obj, *values_obj, *rnds_obj, *result = NULL;
    Py_ssize_t n = 0;
    if (!check_ready()
        || !PyArg_ParseTuple(args, "iy*iiOOO", &alg, &key, &token_class, &subclass, &tids_obj, &values_obj, &rnds_obj))
        return NULL;
    uint64_t *tids = NULL, *vals = NULL, *rnds = NULL;
    u128 *out = NULL;
    if ((token_class != 0 && token_class != 2) || subclass < 0 || subclass > 15) {
        PyErr_SetString(PyExc_ValueError, "class 0 or 2, subclass 0..15");
        goto done;
    }
    if (!check_key(alg, &key, 1))
        goto done;
    tids = read_uints(tids_obj, &n, 24, "TID");
    if (!tids)
        goto done;
    vals = read_uints_or_scalar(values_obj, n, 16, "value");
    if (!vals)
        goto done;
    rnds = read_uints_or_scalar(rnds_obj, n, 4, "RND");
    if (!rnds)
        goto done;
    out = PyMem_Malloc(sizeof(u128) * (size_t)(n ? n : 1));
    if (!out) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        tids[i] = (uint64_t)subclass << 60 | rnds[i] << 56 | tids[i] << 32 | vals[i] << 16;
    encode_core(alg, key.buf, 0, token_class, tids, n, out);
    Py_END_ALLOW_THREADS
    result = digits_list(out, n);
done:
    PyMem_Free(tids);
    PyMem_Free(vals);
    PyMem_Free(rnds);
    PyMem_Free(out);
    PyBuffer_Release(&key);
    return result;
}

/* status of one decoded token */
enum { DEC_OK = 1, DEC_BAD = 0, DEC_UNREAD = 2 };

/* Read token strings; status DEC_UNREAD for anything but 20 ASCII digits (the caller asks the
   per-token engine, which also accepts separators and names the error). */
static int read_tokens(PyObject *seq, Py_ssize_t *n_out, u128 **values_out, uint8_t **status_out, PyObject **fast_out)
{
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of token strings");
    if (!fast)
        return 0;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject **items = PySequence_Fast_ITEMS(fast);
    u128 *values = PyMem_Malloc(sizeof(u128) * (size_t)(n ? n : 1));
    uint8_t *status = PyMem_Malloc((size_t)(n ? n : 1));
    if (!values || !status) {
        PyMem_Free(values);
        PyMem_Free(status);
        Py_DECREF(fast);
        PyErr_NoMemory();
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = items[i];
        status[i] = DEC_UNREAD;
        values[i] = 0;
        if (PyUnicode_Check(o) && PyUnicode_IS_ASCII(o)) {
            Py_ssize_t len = PyUnicode_GET_LENGTH(o);
            if (read20((const char *)PyUnicode_1BYTE_DATA(o), len, &values[i]))
                status[i] = DEC_OK;
        }
    }
    *n_out = n;
    *values_out = values;
    *status_out = status;
    *fast_out = fast;
    return 1;
}

/* Decrypt and check: status DEC_OK (CRC good, class 0..2) or DEC_BAD; blocks[i] = plaintext. */
static void decode_core(const cipher_t *c, u128 *values, uint8_t *status, uint64_t *blocks, Py_ssize_t n)
{
    const u128 limit = (u128)1 << 66;
    for (Py_ssize_t i = 0; i < n; i++) {
        blocks[i] = 0;
        if (status[i] != DEC_OK)
            continue;
        u128 v = values[i];
        if (v >= limit) {
            status[i] = DEC_BAD;
            continue;
        }
        uint64_t lo = (uint64_t)v, hi = (uint64_t)(v >> 64);
        int token_class = (int)((lo >> 27) & 3);
        if (token_class == 3 || (token_class != 1 && c->alg == ALG_NONE)) {
            status[i] = token_class == 3 ? DEC_BAD : DEC_UNREAD;
            continue;
        }
        uint64_t enc = (lo & ~CLASS_BITS) | ((hi >> 1) & 1) << 28 | (hi & 1) << 27;
        uint64_t block = token_class == 1 ? enc : cipher_run(c, enc);
        if ((block & 0xFFFF) != crc_field(token_class, block, is_currency(token_class, block))) {
            status[i] = DEC_BAD;
            continue;
        }
        blocks[i] = block;
        values[i] = (u128)token_class; /* reuse: the class of a good token */
    }
}

static int decode_prepare(PyObject *args, cipher_t *c, Py_buffer *key, Py_ssize_t *n, u128 **values,
                          uint8_t **status, uint64_t **blocks)
{
    int alg;
    PyObject *seq, *fast = NULL;
    if (!check_ready() || !PyArg_ParseTuple(args, "iy*O", &alg, key, &seq))
        return 0;
    if (!check_key(alg, key, 1)) {
        PyBuffer_Release(key);
        return 0;
    }
    if (!read_tokens(seq, n, values, status, &fast)) {
        PyBuffer_Release(key);
        return 0;
    }
    Py_DECREF(fast); /* the strings were copied out as numbers */
    *blocks = PyMem_Malloc(sizeof(uint64_t) * (size_t)(*n ? *n : 1));
    if (!*blocks) {
        PyMem_Free(*values);
        PyMem_Free(*status);
        PyBuffer_Release(key);
        PyErr_NoMemory();
        return 0;
    }
    cipher_init(c, alg, key->buf, 1);
    Py_BEGIN_ALLOW_THREADS
    decode_core(c, *values, *status, *blocks, *n);
    Py_END_ALLOW_THREADS
    return 1;
}

PyDoc_STRVAR(decode_doc, "decode(alg, key, tokens)\n--\n\n"
                         "Per token: (class, plaintext block) if it decrypts with a good CRC; False if it\n"
                         "cannot be a token under this key (class 3, too large, CRC); None if it is not\n"
                         "20 plain digits (ask the per-token engine).");

static PyObject *py_decode(PyObject *self, PyObject *args)
{
    cipher_t c;
    Py_buffer key;
    Py_ssize_t n;
    u128 *values;
    uint8_t *status;
    uint64_t *blocks;
    if (!decode_prepare(args, &c, &key, &n, &values, &status, &blocks))
        return NULL;
    PyObject *list = PyList_New(n);
    for (Py_ssize_t i = 0; list && i < n; i++) {
        PyObject *item;
        if (status[i] == DEC_OK)
            item = Py_BuildValue("(iK)", (int)values[i], (unsigned long long)blocks[i]);
        else if (status[i] == DEC_BAD)
            item = Py_NewRef(Py_False);
        else
            item = Py_NewRef(Py_None);
        if (!item) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, item);
    }
    PyMem_Free(values);
    PyMem_Free(status);
    PyMem_Free(blocks);
    PyBuffer_Release(&key);
    return list;
}

PyDoc_STRVAR(check_doc, "check(alg, key, tokens)\n--\n\n"
                        "bytes, one per token: 1 decrypts with a good CRC, 0 cannot be a token under this key,\n"
                        "2 not 20 plain digits (ask the per-token engine).");

static PyObject *py_check(PyObject *self, PyObject *args)
{
    cipher_t c;
    Py_buffer key;
    Py_ssize_t n;
    u128 *values;
    uint8_t *status;
    uint64_t *blocks;
    if (!decode_prepare(args, &c, &key, &n, &values, &status, &blocks))
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize((const char *)status, n);
    PyMem_Free(values);
    PyMem_Free(status);
    PyMem_Free(blocks);
    PyBuffer_Release(&key);
    return out;
}

PyDoc_STRVAR(crypt_doc, "crypt(alg, key, blocks, decrypt)\n--\n\nRaw block encryption or decryption (tests, DKGA).");

static PyObject *py_crypt(PyObject *self, PyObject *args)
{
    int alg, decrypt;
    Py_buffer key;
    PyObject *seq;
    Py_ssize_t n = 0;
    if (!check_ready() || !PyArg_ParseTuple(args, "iy*Op", &alg, &key, &seq, &decrypt))
        return NULL;
    PyObject *list = NULL;
    uint64_t *blocks = NULL;
    if (alg == ALG_NONE || !check_key(alg, &key, 1))
        goto done;
    blocks = read_uints(seq, &n, 64, "block");
    if (!blocks)
        goto done;
    cipher_t c;
    cipher_init(&c, alg, key.buf, decrypt);
    for (Py_ssize_t i = 0; i < n; i++)
        blocks[i] = cipher_run(&c, blocks[i]);
    list = PyList_New(n);
    for (Py_ssize_t i = 0; list && i < n; i++) {
        PyObject *v = PyLong_FromUnsignedLongLong(blocks[i]);
        if (!v) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, v);
    }
done:
    if (alg == ALG_NONE && !PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "no cipher named");
    PyMem_Free(blocks);
    PyBuffer_Release(&key);
    return list;
}

/* ------------------------------------------------------------------ DKGA02 and PANs */

static inline int luhn_ok(const char *s, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        int d = s[n - 1 - i] - '0';
        if (i % 2) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        total += d;
    }
    return total % 10 == 0;
}

/* As prabayar.sts.meter_pan.validate for a compact PAN: 18 digits, Luhn, the meter number's Luhn. */
static int pan_ok(PyObject *o, const char **digits)
{
    if (!PyUnicode_Check(o) || !PyUnicode_IS_ASCII(o) || PyUnicode_GET_LENGTH(o) != 18)
        return 0;
    const char *s = (const char *)PyUnicode_1BYTE_DATA(o);
    for (int i = 0; i < 18; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    if (!luhn_ok(s, 18))
        return 0;
    int cut = memcmp(s, "600727", 6) == 0 ? 6 : 4;
    if (!luhn_ok(s + cut, 17 - cut))
        return 0;
    *digits = s;
    return 1;
}

/* PANBlock: the rightmost 16 of the first 17 digits as nibbles (meter digits zeroed for KT 3). */
static uint64_t pan_block(const char *s, int common)
{
    int cut = memcmp(s, "600727", 6) == 0 ? 6 : 4;
    uint64_t v = 0;
    for (int i = 1; i < 17; i++)
        v = (v << 4) | (uint64_t)((common && i >= cut) ? 0 : s[i] - '0');
    return v;
}

static PyObject *bad_index_list(const uint8_t *bad, Py_ssize_t n)
{
    PyObject *list = PyList_New(0);
    for (Py_ssize_t i = 0; list && i < n; i++)
        if (bad[i]) {
            PyObject *v = PyLong_FromSsize_t(i);
            if (!v || PyList_Append(list, v) < 0) {
                Py_XDECREF(v);
                Py_CLEAR(list);
                break;
            }
            Py_DECREF(v);
        }
    return list;
}

PyDoc_STRVAR(dkga02_doc, "dkga02(vudk, pans, control_block, common)\n--\n\n"
                         "(keys, bad): 8 key bytes per PAN, DES(VUDK, X) ^ X ^ VUDK with X = PANBlock ^ CONTROLBlock;\n"
                         "``bad`` lists the indices of PANs that are not 18 valid digits (their key bytes are 0).");

static PyObject *py_dkga02(PyObject *self, PyObject *args)
{
    Py_buffer vudk;
    PyObject *seq;
    unsigned long long control;
    int common;
    if (!check_ready() || !PyArg_ParseTuple(args, "y*OKp", &vudk, &seq, &control, &common))
        return NULL;
    PyObject *result = NULL, *keys = NULL, *badlist = NULL, *fast = NULL;
    uint8_t *bad = NULL;
    if (vudk.len != 8) {
        PyErr_SetString(PyExc_ValueError, "DKGA02 needs an 8-byte vending key (VUDK)");
        goto done;
    }
    fast = PySequence_Fast(seq, "expected a sequence of PAN strings");
    if (!fast)
        goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject **items = PySequence_Fast_ITEMS(fast);
    keys = PyBytes_FromStringAndSize(NULL, 8 * n);
    bad = PyMem_Calloc((size_t)(n ? n : 1), 1);
    if (!keys || !bad)
        goto done;
    uint8_t *kb = (uint8_t *)PyBytes_AS_STRING(keys);
    des_key_t ks;
    uint64_t v = load_be64(vudk.buf);
    des_schedule(&ks, v);
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *digits;
        uint64_t out = 0;
        if (pan_ok(items[i], &digits)) {
            uint64_t x = pan_block(digits, common) ^ control;
            out = des_crypt(&ks, x, 0) ^ x ^ v;
        } else {
            bad[i] = 1;
        }
        for (int b = 0; b < 8; b++)
            kb[8 * i + b] = (uint8_t)(out >> (56 - 8 * b));
    }
    badlist = bad_index_list(bad, n);
    if (badlist)
        result = PyTuple_Pack(2, keys, badlist);
done:
    Py_XDECREF(keys);
    Py_XDECREF(badlist);
    Py_XDECREF(fast);
    PyMem_Free(bad);
    PyBuffer_Release(&vudk);
    return result;
}

PyDoc_STRVAR(bad_pans_doc, "bad_pans(pans)\n--\n\nIndices of PANs that are not 18 valid compact digits.");

static PyObject *py_bad_pans(PyObject *self, PyObject *seq)
{
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of PAN strings");
    if (!fast)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject **items = PySequence_Fast_ITEMS(fast);
    uint8_t *bad = PyMem_Calloc((size_t)(n ? n : 1), 1);
    PyObject *result = NULL;
    if (bad) {
        for (Py_ssize_t i = 0; i < n; i++) {
            const char *digits;
            bad[i] = (uint8_t)!pan_ok(items[i], &digits);
        }
        result = bad_index_list(bad, n);
    } else {
        PyErr_NoMemory();
    }
    PyMem_Free(bad);
    Py_DECREF(fast);
    return result;
}

PyDoc_STRVAR(meter_pans_doc, "meter_pans(numbers)\n--\n\n"
                             "(pans, bad): the 18-digit PAN of each compact 11- or 13-digit meter number with a good\n"
                             "Luhn digit (IIN 600727 or 0000 + number + Luhn); ``bad`` lists the indices of the\n"
                             "others (their PAN is None: ask the per-token engine, which names the error).");

static PyObject *py_meter_pans(PyObject *self, PyObject *seq)
{
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of meter numbers");
    if (!fast)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject **items = PySequence_Fast_ITEMS(fast);
    PyObject *pans = PyList_New(n), *badlist = NULL, *result = NULL;
    uint8_t *bad = PyMem_Calloc((size_t)(n ? n : 1), 1);
    if (!pans || !bad)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = items[i];
        Py_ssize_t len = PyUnicode_Check(o) && PyUnicode_IS_ASCII(o) ? PyUnicode_GET_LENGTH(o) : 0;
        const char *s = len ? (const char *)PyUnicode_1BYTE_DATA(o) : NULL;
        int ok = (len == 11 || len == 13);
        for (Py_ssize_t j = 0; ok && j < len; j++)
            ok = s[j] >= '0' && s[j] <= '9';
        if (ok)
            ok = luhn_ok(s, (int)len);
        if (!ok) {
            bad[i] = 1;
            PyList_SET_ITEM(pans, i, Py_NewRef(Py_None));
            continue;
        }
        char buf[19];
        int cut = len == 11 ? 6 : 4;
        memcpy(buf, len == 11 ? "600727" : "0000", (size_t)cut);
        memcpy(buf + cut, s, (size_t)len);
        buf[17] = '0';
        int total = 0; /* Luhn sum with a 0 check digit: the digit that makes it a multiple of 10 */
        for (int k = 0; k < 18; k++) {
            int d = buf[17 - k] - '0';
            if (k % 2) {
                d *= 2;
                if (d > 9)
                    d -= 9;
            }
            total += d;
        }
        buf[17] = (char)('0' + (10 - total % 10) % 10);
        buf[18] = 0;
        PyObject *pan = PyUnicode_FromStringAndSize(buf, 18);
        if (!pan)
            goto done;
        PyList_SET_ITEM(pans, i, pan);
    }
    badlist = bad_index_list(bad, n);
    if (badlist)
        result = PyTuple_Pack(2, pans, badlist);
done:
    if (!bad && !PyErr_Occurred())
        PyErr_NoMemory();
    Py_XDECREF(pans);
    Py_XDECREF(badlist);
    PyMem_Free(bad);
    Py_DECREF(fast);
    return result;
}

/* ------------------------------------------------------------------ HMAC-SHA256 (DKGA04) */

/* SHA-256 (FIPS 180-4) and HMAC (RFC 2104), written for DKGA04 derivation of many meters
   under one vending key: the key's inner and outer states are computed once, then a PAN's
   message (one block) costs two compressions instead of a Python call to hmac.digest. The
   constants are the first 32 bits of the fractional parts of the cube roots (K) and square
   roots (H0) of the first primes, as the standard defines them. Checked against hashlib. */
static const uint32_t SHA_K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};
static const uint32_t SHA_H0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25)) + ((e & f) ^ (~e & g)) + SHA_K[i] + w[i];
        uint32_t t2 = (ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

/* Hash the rest of a message (``done`` bytes already compressed into h) and write the digest. */
static void sha_finish(uint32_t h[8], uint64_t done, const uint8_t *msg, size_t len, uint8_t out[32])
{
    uint8_t block[64];
    for (; len >= 64; msg += 64, len -= 64, done += 64)
        sha_block(h, msg);
    memset(block, 0, sizeof block);
    memcpy(block, msg, len);
    block[len] = 0x80;
    if (len >= 56) {
        sha_block(h, block);
        memset(block, 0, sizeof block);
    }
    uint64_t bits = (done + len) * 8;
    for (int i = 0; i < 8; i++)
        block[63 - i] = (uint8_t)(bits >> (8 * i));
    sha_block(h, block);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

typedef struct {
    uint32_t inner[8], outer[8]; /* after the key block XOR ipad / opad */
} hmac_key_t;

static void hmac_init(hmac_key_t *hk, const uint8_t *key, size_t len)
{
    uint8_t kb[64], pad[64];
    memset(kb, 0, sizeof kb);
    if (len > 64) {
        uint32_t h[8];
        memcpy(h, SHA_H0, sizeof h);
        sha_finish(h, 0, key, len, kb);
    } else {
        memcpy(kb, key, len);
    }
    for (int i = 0; i < 64; i++)
        pad[i] = kb[i] ^ 0x36;
    memcpy(hk->inner, SHA_H0, sizeof hk->inner);
    sha_block(hk->inner, pad);
    for (int i = 0; i < 64; i++)
        pad[i] = kb[i] ^ 0x5c;
    memcpy(hk->outer, SHA_H0, sizeof hk->outer);
    sha_block(hk->outer, pad);
}

static void hmac_sha256(const hmac_key_t *hk, const uint8_t *msg, size_t len, uint8_t out[32])
{
    uint32_t h[8];
    uint8_t inner[32];
    memcpy(h, hk->inner, sizeof h);
    sha_finish(h, 64, msg, len, inner);
    memcpy(h, hk->outer, sizeof h);
    sha_finish(h, 64, inner, 32, out);
}

PyDoc_STRVAR(hmac_sha256_doc, "hmac_sha256(key, messages)\n--\n\n"
                              "HMAC-SHA256 of each bytes message under one key (what DKGA04 is built on; a test hook).");

static PyObject *py_hmac_sha256(PyObject *self, PyObject *args)
{
    Py_buffer key;
    PyObject *seq;
    if (!PyArg_ParseTuple(args, "y*O", &key, &seq))
        return NULL;
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of bytes"), *list = NULL;
    if (!fast)
        goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    list = PyList_New(n);
    hmac_key_t hk;
    hmac_init(&hk, key.buf, (size_t)key.len);
    for (Py_ssize_t i = 0; list && i < n; i++) {
        PyObject *m = PySequence_Fast_GET_ITEM(fast, i);
        if (!PyBytes_Check(m)) {
            PyErr_SetString(PyExc_TypeError, "messages are bytes");
            Py_CLEAR(list);
            break;
        }
        uint8_t digest[32];
        hmac_sha256(&hk, (const uint8_t *)PyBytes_AS_STRING(m), (size_t)PyBytes_GET_SIZE(m), digest);
        PyObject *d = PyBytes_FromStringAndSize((const char *)digest, 32);
        if (!d) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, d);
    }
done:
    Py_XDECREF(fast);
    PyBuffer_Release(&key);
    return list;
}

PyDoc_STRVAR(dkga04_doc, "dkga04(vending_key, pans, head, tail, size)\n--\n\n"
                         "(keys, bad): ``size`` key bytes per PAN, the first bytes of\n"
                         "HMAC-SHA256(vending_key, head + b'\\x12' + pan + tail) (the DKGA04 message with the PAN\n"
                         "item between ``head`` and ``tail``); ``bad`` lists the indices of PANs that are not 18 valid\n"
                         "digits (their key bytes are 0).");

static PyObject *py_dkga04(PyObject *self, PyObject *args)
{
    Py_buffer vk, head, tail;
    PyObject *seq;
    int size;
    if (!PyArg_ParseTuple(args, "y*Oy*y*i", &vk, &seq, &head, &tail, &size))
        return NULL;
    PyObject *result = NULL, *keys = NULL, *badlist = NULL, *fast = NULL;
    uint8_t *bad = NULL;
    uint8_t msg[256];
    if (size < 1 || size > 32 || head.len + 19 + tail.len > (Py_ssize_t)sizeof msg) {
        PyErr_SetString(PyExc_ValueError, "DKGA04: 1..32 key bytes, a message of at most 256 bytes");
        goto done;
    }
    fast = PySequence_Fast(seq, "expected a sequence of PAN strings");
    if (!fast)
        goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject **items = PySequence_Fast_ITEMS(fast);
    keys = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size * n);
    bad = PyMem_Calloc((size_t)(n ? n : 1), 1);
    if (!keys || !bad)
        goto done;
    uint8_t *kb = (uint8_t *)PyBytes_AS_STRING(keys);
    hmac_key_t hk;
    hmac_init(&hk, vk.buf, (size_t)vk.len);
    memcpy(msg, head.buf, (size_t)head.len);
    msg[head.len] = 18;
    memcpy(msg + head.len + 19, tail.buf, (size_t)tail.len);
    size_t len = (size_t)(head.len + 19 + tail.len);
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *digits;
        uint8_t digest[32];
        if (pan_ok(items[i], &digits)) {
            memcpy(msg + head.len + 1, digits, 18);
            hmac_sha256(&hk, msg, len, digest);
        } else {
            bad[i] = 1;
            memset(digest, 0, sizeof digest);
        }
        memcpy(kb + (Py_ssize_t)size * i, digest, (size_t)size);
    }
    badlist = bad_index_list(bad, n);
    if (badlist)
        result = PyTuple_Pack(2, keys, badlist);
done:
    if (!result && !PyErr_Occurred())
        PyErr_NoMemory();
    Py_XDECREF(keys);
    Py_XDECREF(badlist);
    Py_XDECREF(fast);
    PyMem_Free(bad);
    PyBuffer_Release(&vk);
    PyBuffer_Release(&head);
    PyBuffer_Release(&tail);
    return result;
}

/* ------------------------------------------------------------------ key change sets */

/* The KCT sets of ``meters`` meters (``*per`` tokens each) into a new array ``*out``; 0 with
   an exception set on bad arguments. */
static int kct_encode(int alg, Py_buffer *cur, Py_buffer *nk, int nbytes, PyObject *heads_obj, Py_ssize_t *meters_out,
                      int *per_out, u128 **out_out)
{
    uint64_t *heads = NULL, *blocks = NULL;
    u128 *out = NULL;
    Py_ssize_t nheads = 0, meters = 0;
    int per = nbytes == 8 ? 2 : 4, ok = 0;
    if ((nbytes != 8 && nbytes != 16) || alg == ALG_NONE) {
        PyErr_SetString(PyExc_ValueError, "a new key has 8 or 16 bytes; a current key is needed");
        goto done;
    }
    if (nk->len % nbytes) {
        PyErr_SetString(PyExc_ValueError, "new keys are not a whole number of keys");
        goto done;
    }
    meters = nk->len / nbytes;
    if (!check_key(alg, cur, meters))
        goto done;
    heads = read_uints(heads_obj, &nheads, 64, "head block");
    if (!heads)
        goto done;
    if (nheads != per) {
        PyErr_Format(PyExc_ValueError, "%d head blocks expected", per);
        goto done;
    }
    blocks = PyMem_Malloc(sizeof(uint64_t) * (size_t)(meters * per + 1));
    out = PyMem_Malloc(sizeof(u128) * (size_t)(meters * per + 1));
    if (!blocks || !out) {
        PyErr_NoMemory();
        goto done;
    }
    const uint8_t *k = nk->buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t m = 0; m < meters; m++) {
        const uint8_t *key = k + m * nbytes;
        uint64_t sec[4];
        for (int s = 0; s < 4; s++)
            sec[s] = (uint64_t)key[4 * s] << 24 | (uint64_t)key[4 * s + 1] << 16 | (uint64_t)key[4 * s + 2] << 8
                   | key[4 * s + 3];
        uint64_t *b = blocks + m * per;
        b[0] = heads[0] | sec[0] << 16;
        if (per == 2) {
            b[1] = heads[1] | sec[1] << 16;
        } else {
            b[1] = heads[1] | sec[3] << 16; /* lowest 32 bits of the key */
            b[2] = heads[2] | sec[1] << 16; /* key bytes 4..7 */
            b[3] = heads[3] | sec[2] << 16; /* key bytes 8..11 */
        }
    }
    encode_core(alg, cur->buf, per, 2, blocks, meters * per, out);
    Py_END_ALLOW_THREADS
    ok = 1;
done:
    PyMem_Free(heads);
    PyMem_Free(blocks);
    if (!ok) {
        PyMem_Free(out);
        out = NULL;
    }
    *meters_out = meters;
    *per_out = per;
    *out_out = out;
    return ok;
}

PyDoc_STRVAR(key_change_doc,
             "key_change(alg, current_keys, new_keys, new_key_bytes, heads)\n--\n\n"
             "Key change token sets: per meter, the 2 (8-byte new key) or 4 (16-byte) class 2 blocks\n"
             "``heads`` with the new key's sections OR-ed into bits 47..16, encrypted with the meter's\n"
             "current key. Flat list of digits, 2 or 4 per meter.");

static PyObject *py_key_change(PyObject *self, PyObject *args)
{
    int alg, nbytes, per;
    Py_buffer cur, nk;
    PyObject *heads_obj, *result = NULL;
    if (!check_ready() || !PyArg_ParseTuple(args, "iy*y*iO", &alg, &cur, &nk, &nbytes, &heads_obj))
        return NULL;
    Py_ssize_t meters;
    u128 *out = NULL;
    if (kct_encode(alg, &cur, &nk, nbytes, heads_obj, &meters, &per, &out))
        result = digits_list(out, meters * per);
    PyMem_Free(out);
    PyBuffer_Release(&cur);
    PyBuffer_Release(&nk);
    return result;
}

/* The ASCII bytes of a str that is safe inside a COPY text field (no tab, newline, CR or
   backslash), else NULL with ValueError naming what and where. */
static const char *copy_field(PyObject *o, Py_ssize_t *len, const char *what, Py_ssize_t i)
{
    if (!PyUnicode_Check(o) || !PyUnicode_IS_ASCII(o)) {
        PyErr_Format(PyExc_ValueError, "%s %zd is not an ASCII str", what, i);
        return NULL;
    }
    const char *s = (const char *)PyUnicode_1BYTE_DATA(o);
    *len = PyUnicode_GET_LENGTH(o);
    for (Py_ssize_t j = 0; j < *len; j++)
        if (s[j] == '\t' || s[j] == '\n' || s[j] == '\r' || s[j] == '\\') {
            PyErr_Format(PyExc_ValueError, "%s %zd has a tab, newline or backslash", what, i);
            return NULL;
        }
    return s;
}

PyDoc_STRVAR(key_change_lines_doc,
             "key_change_lines(alg, current_keys, new_keys, new_key_bytes, heads, firsts, seconds, before, middle,"
             " after)\n--\n\n"
             "The sets of key_change() as text lines, one per meter: before + firsts[i] + TAB + seconds[i] +\n"
             "middle + the set's digits joined by spaces + after (ASCII bytes; a whole PostgreSQL COPY payload\n"
             "without a Python object per meter). ``firsts``/``seconds`` must not hold a tab, newline or\n"
             "backslash (ValueError); ``before``/``middle``/``after`` are written as given.");

static PyObject *py_key_change_lines(PyObject *self, PyObject *args)
{
    int alg, nbytes, per;
    Py_buffer cur, nk, before, middle, after;
    PyObject *heads_obj, *firsts, *seconds, *result = NULL, *f1 = NULL, *f2 = NULL;
    if (!check_ready() || !PyArg_ParseTuple(args, "iy*y*iOOOy*y*y*", &alg, &cur, &nk, &nbytes, &heads_obj, &firsts,
                                            &seconds, &before, &middle, &after))
        return NULL;
    Py_ssize_t meters = 0;
    u128 *out = NULL;
    if (!kct_encode(alg, &cur, &nk, nbytes, heads_obj, &meters, &per, &out))
        goto done;
    f1 = PySequence_Fast(firsts, "expected a sequence of str");
    f2 = f1 ? PySequence_Fast(seconds, "expected a sequence of str") : NULL;
    if (!f2)
        goto done;
    if (PySequence_Fast_GET_SIZE(f1) != meters || PySequence_Fast_GET_SIZE(f2) != meters) {
        PyErr_Format(PyExc_ValueError, "%zd meters but %zd firsts and %zd seconds", meters,
                     PySequence_Fast_GET_SIZE(f1), PySequence_Fast_GET_SIZE(f2));
        goto done;
    }
    PyObject **a = PySequence_Fast_ITEMS(f1), **b = PySequence_Fast_ITEMS(f2);
    Py_ssize_t fixed = before.len + 1 + middle.len + 21 * per - 1 + after.len, total = 0, la, lb;
    for (Py_ssize_t i = 0; i < meters; i++) {
        if (!copy_field(a[i], &la, "first", i) || !copy_field(b[i], &lb, "second", i))
            goto done;
        total += fixed + la + lb;
    }
    result = PyBytes_FromStringAndSize(NULL, total);
    if (!result)
        goto done;
    char *w = PyBytes_AS_STRING(result);
    for (Py_ssize_t i = 0; i < meters; i++) {
        const char *sa = (const char *)PyUnicode_1BYTE_DATA(a[i]), *sb = (const char *)PyUnicode_1BYTE_DATA(b[i]);
        la = PyUnicode_GET_LENGTH(a[i]);
        lb = PyUnicode_GET_LENGTH(b[i]);
        memcpy(w, before.buf, (size_t)before.len);
        w += before.len;
        memcpy(w, sa, (size_t)la);
        w += la;
        *w++ = '\t';
        memcpy(w, sb, (size_t)lb);
        w += lb;
        memcpy(w, middle.buf, (size_t)middle.len);
        w += middle.len;
        for (int t = 0; t < per; t++) {
            if (t)
                *w++ = ' ';
            write20(w, out[i * per + t]);
            w += 20;
        }
        memcpy(w, after.buf, (size_t)after.len);
        w += after.len;
    }
done:
    PyMem_Free(out);
    Py_XDECREF(f1);
    Py_XDECREF(f2);
    PyBuffer_Release(&cur);
    PyBuffer_Release(&nk);
    PyBuffer_Release(&before);
    PyBuffer_Release(&middle);
    PyBuffer_Release(&after);
    return result;
}

/* ------------------------------------------------------------------ two-digit variants */

PyDoc_STRVAR(two_digit_variants_doc,
             "two_digit_variants(typed, classes_mask, alg, key)\n--\n\n"
             "Every token differing from the 20 digits ``typed`` in exactly two positions, in the order\n"
             "(position p, new digit at p, position q > p, new digit at q): (generated, plausible, good).\n"
             "plausible: below 2**66 with a class whose bit is set in ``classes_mask``; good: those of\n"
             "them that decrypt under the key with a good CRC, as (digits, p, q) with 1-based positions.\n"
             "alg 0: count only.");

static PyObject *py_two_digit_variants(PyObject *self, PyObject *args)
{
    const char *typed;
    Py_ssize_t len;
    int mask, alg;
    Py_buffer key;
    if (!check_ready() || !PyArg_ParseTuple(args, "s#iiy*", &typed, &len, &mask, &alg, &key))
        return NULL;
    PyObject *good = NULL, *result = NULL;
    u128 base;
    if (!read20(typed, len, &base)) {
        PyErr_SetString(PyExc_ValueError, "20 ASCII digits expected");
        goto done;
    }
    if (alg != ALG_NONE && !check_key(alg, &key, 1))
        goto done;
    cipher_t c;
    if (alg != ALG_NONE)
        cipher_init(&c, alg, key.buf, 1);
    u128 weight[20];
    int digit[20];
    weight[19] = 1;
    for (int i = 18; i >= 0; i--)
        weight[i] = weight[i + 1] * 10;
    for (int i = 0; i < 20; i++)
        digit[i] = typed[i] - '0';
    const u128 limit = (u128)1 << 66;
    long long generated = 0, plausible = 0;
    good = PyList_New(0);
    if (!good)
        goto done;
    for (int p = 0; p < 19; p++)
        for (int np = 0; np < 10; np++) {
            if (np == digit[p])
                continue;
            u128 first = base - digit[p] * weight[p] + np * weight[p];
            for (int q = p + 1; q < 20; q++) {
                u128 cleared = first - digit[q] * weight[q];
                for (int nq = 0; nq < 10; nq++) {
                    if (nq == digit[q])
                        continue;
                    generated++;
                    u128 v = cleared + nq * weight[q];
                    if (v >= limit)
                        continue;
                    uint64_t lo = (uint64_t)v, hi = (uint64_t)(v >> 64);
                    int token_class = (int)((lo >> 27) & 3);
                    if (!((mask >> token_class) & 1))
                        continue;
                    plausible++;
                    if (alg == ALG_NONE || token_class == 3)
                        continue;
                    uint64_t enc = (lo & ~CLASS_BITS) | ((hi >> 1) & 1) << 28 | (hi & 1) << 27;
                    uint64_t block = token_class == 1 ? enc : cipher_run(&c, enc);
                    if ((block & 0xFFFF) != crc_field(token_class, block, is_currency(token_class, block)))
                        continue;
                    PyObject *s = PyUnicode_New(20, 127);
                    if (!s) {
                        Py_CLEAR(good);
                        goto done;
                    }
                    write20((char *)PyUnicode_1BYTE_DATA(s), v);
                    PyObject *item = Py_BuildValue("(Nii)", s, p + 1, q + 1);
                    if (!item || PyList_Append(good, item) < 0) {
                        Py_XDECREF(item);
                        Py_CLEAR(good);
                        goto done;
                    }
                    Py_DECREF(item);
                }
            }
        }
    result = Py_BuildValue("(LLO)", generated, plausible, good);
done:
    Py_XDECREF(good);
    PyBuffer_Release(&key);
    return result;
}

static PyMethodDef methods[] = {
    {"setup", py_setup, METH_VARARGS, setup_doc},
    {"encode", py_encode, METH_VARARGS, encode_doc},
    {"encode_fields", py_encode_fields, METH_VARARGS, encode_fields_doc},
    {"decode", py_decode, METH_VARARGS, decode_doc},
    {"check", py_check, METH_VARARGS, check_doc},
    {"crypt", py_crypt, METH_VARARGS, crypt_doc},
    {"dkga02", py_dkga02, METH_VARARGS, dkga02_doc},
    {"bad_pans", py_bad_pans, METH_O, bad_pans_doc},
    {"meter_pans", py_meter_pans, METH_O, meter_pans_doc},
    {"key_change", py_key_change, METH_VARARGS, key_change_doc},
    {"key_change_lines", py_key_change_lines, METH_VARARGS, key_change_lines_doc},
    {"hmac_sha256", py_hmac_sha256, METH_VARARGS, hmac_sha256_doc},
    {"dkga04", py_dkga04, METH_VARARGS, dkga04_doc},
    {"two_digit_variants", py_two_digit_variants, METH_VARARGS, two_digit_variants_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "prabayar.sts._batch",
    "The batch token engine in C; use it through prabayar.sts.batch.", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__batch(void)
{
    return PyModule_Create(&module);
}
