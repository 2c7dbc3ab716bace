/* Secrets at rest, exactly as elizaOS encrypts them (COMPAT §3.1): AES-256-CBC with key
 * SHA-256(salt), a random 16-byte IV, stored as "<32 hex iv>:<hex ciphertext>". Values that
 * already have that form are left alone, so re-saving never double-encrypts; numbers and
 * booleans are not secrets in elizaOS's sense and stay as they are. */
#include "agents_int.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* The key is derived on first use: the first OpenSSL call loads its providers (about 2 MB
 * resident), which a server whose agents hold no secrets never needs. */
int ag_secrets_init_key(ag_state *st, const char *salt) {
    st->secret_salt = strdup(salt);
    return st->secret_salt ? 0 : -1;
}

static const unsigned char *ag_key(ag_state *st) {
    if (!st->key_ready) {
        SHA256((const unsigned char *)st->secret_salt, strlen(st->secret_salt), st->key);
        st->key_ready = 1;
    }
    return st->key;
}

static int ag_hexval(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes n bytes from 2n hex digits; -1 on a non-hex digit. */
static int ag_unhex(const char *hex, size_t n, unsigned char *out) {
    for (size_t i = 0; i < n; i++) {
        int hi = ag_hexval((unsigned char)hex[2 * i]),
            lo = ag_hexval((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int ag_secret_is_encrypted(const char *s) {
    const char *colon = strchr(s, ':');
    if (!colon || strchr(colon + 1, ':') || colon - s != 32)
        return 0;
    for (const char *p = s; p < colon; p++)
        if (ag_hexval((unsigned char)*p) < 0)
            return 0;
    return 1;
}

static void ag_tohex(const unsigned char *in, size_t n, char *out) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Returns new "<iv>:<ct>" or NULL. */
static char *ag_encrypt(ag_state *st, const char *plain) {
    size_t n = strlen(plain);
    unsigned char iv[16];
    if (RAND_bytes(iv, sizeof iv) != 1)
        return NULL;
    unsigned char *ct = malloc(n + 32);
    char *out = malloc(33 + 2 * (n + 32) + 1);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l1 = 0, l2 = 0, ok = ct && out && c;
    ok = ok && EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, ag_key(st), iv) == 1;
    ok = ok && EVP_EncryptUpdate(c, ct, &l1, (const unsigned char *)plain, (int)n) == 1;
    ok = ok && EVP_EncryptFinal_ex(c, ct + l1, &l2) == 1;
    if (ok) {
        ag_tohex(iv, 16, out);
        out[32] = ':';
        ag_tohex(ct, (size_t)l1 + (size_t)l2, out + 33);
    }
    EVP_CIPHER_CTX_free(c);
    free(ct);
    if (!ok) {
        free(out);
        return NULL;
    }
    return out;
}

/* Returns the new plaintext or NULL when s does not decrypt with our key. */
static char *ag_decrypt(ag_state *st, const char *s) {
    if (!ag_secret_is_encrypted(s))
        return NULL;
    const char *hex = s + 33;
    size_t hl = strlen(hex);
    if (hl == 0 || hl % 2 || hl / 2 % 16)
        return NULL;
    size_t n = hl / 2;
    unsigned char iv[16];
    if (ag_unhex(s, sizeof iv, iv) != 0)
        return NULL;
    unsigned char *ct = malloc(n);
    char *out = malloc(n + 16 + 1);
    if (!ct || !out) {
        free(ct);
        free(out);
        return NULL;
    }
    if (ag_unhex(hex, n, ct) != 0) {
        free(ct);
        free(out);
        return NULL;
    }
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l1 = 0, l2 = 0, ok = c != NULL;
    ok = ok && EVP_DecryptInit_ex(c, EVP_aes_256_cbc(), NULL, ag_key(st), iv) == 1;
    ok = ok && EVP_DecryptUpdate(c, (unsigned char *)out, &l1, ct, (int)n) == 1;
    ok = ok && EVP_DecryptFinal_ex(c, (unsigned char *)out + l1, &l2) == 1;
    EVP_CIPHER_CTX_free(c);
    free(ct);
    if (!ok) {
        free(out);
        return NULL;
    }
    out[l1 + l2] = '\0';
    return out;
}

void ag_secrets_encrypt_obj(ag_state *st, json_t *obj) {
    const char *k;
    json_t *v;
    if (!json_is_object(obj))
        return;
    json_object_foreach(obj, k, v) {
        const char *s = json_string_value(v);
        if (!s || ag_secret_is_encrypted(s))
            continue;
        char *enc = ag_encrypt(st, s);
        if (enc) {
            json_string_set(v, enc);
            free(enc);
        }
    }
}

void ag_secrets_decrypt_obj(ag_state *st, json_t *obj) {
    const char *k;
    json_t *v;
    if (!json_is_object(obj))
        return;
    json_object_foreach(obj, k, v) {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        char *plain = ag_decrypt(st, s);
        if (plain) {
            json_string_set(v, plain);
            free(plain);
        }
    }
}

void ag_secrets_encrypt_character(ag_state *st, json_t *character) {
    ag_secrets_encrypt_obj(st, json_object_get(json_object_get(character, "settings"), "secrets"));
    ag_secrets_encrypt_obj(st, json_object_get(character, "secrets"));
}

void ag_secrets_decrypt_character(ag_state *st, json_t *character) {
    ag_secrets_decrypt_obj(st, json_object_get(json_object_get(character, "settings"), "secrets"));
    ag_secrets_decrypt_obj(st, json_object_get(character, "secrets"));
}
