// AES-256-GCM through the OpenSSL that Node.js itself carries (Node exports its OpenSSL symbols
// to addons; the headers come with Node's), for the record layer's hot path.
//
// Why this exists: node:crypto makes a cipher object per record and a new output buffer per
// update, which on 64 KiB records runs at about 1 GB/s here against OpenSSL's 3 GB/s; the
// output buffers also feed V8's garbage collector (README "Performance"). This binding keeps one
// EVP context per key (re-keyed only when the key bytes change, checked on every call) and
// writes into buffers the caller owns, so a record can be opened straight into a piece's body.
//
// Every argument is checked here before any pointer is used; a JavaScript caller can pass
// nothing that makes this code read or write outside the buffers it was given.
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#define KEY_LENGTH 32
#define NONCE_LENGTH 12
#define TAG_LENGTH 16

typedef struct {
  EVP_CIPHER_CTX *evp;
  unsigned char key[KEY_LENGTH];
  int keyed;   // key holds the key the context was initialised with
  int encrypt; // direction of that initialisation
} AeadContext;

static void wipe_context(AeadContext *c) {
  if (c->evp != NULL) EVP_CIPHER_CTX_reset(c->evp);
  OPENSSL_cleanse(c->key, KEY_LENGTH);
  c->keyed = 0;
}

static void finalize_context(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  AeadContext *c = (AeadContext *)data;
  wipe_context(c);
  EVP_CIPHER_CTX_free(c->evp);
  OPENSSL_free(c);
}

static napi_value throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_OPENSSL_AEAD", message);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_OPENSSL_AEAD", message);
  return NULL;
}

/** A Uint8Array argument's bytes; 0 when the value is anything else. */
static int uint8_array(napi_env env, napi_value value, unsigned char **data, size_t *length) {
  napi_typedarray_type type;
  void *raw = NULL;
  size_t count = 0;
  if (napi_get_typedarray_info(env, value, &type, &count, &raw, NULL, NULL) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *data = (unsigned char *)raw;
  *length = count;
  return 1;
}

static AeadContext *context_argument(napi_env env, napi_value value) {
  napi_valuetype type;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external) return NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return (AeadContext *)data;
}

static int overlaps(const unsigned char *a, size_t a_length, const unsigned char *b, size_t b_length) {
  uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
  return a0 < b0 + b_length && b0 < a0 + a_length;
}

static napi_value new_context(napi_env env, napi_callback_info info) {
  (void)info;
  AeadContext *c = OPENSSL_zalloc(sizeof(AeadContext));
  if (c == NULL) return throw_range(env, "out of memory");
  c->evp = EVP_CIPHER_CTX_new();
  if (c->evp == NULL) {
    OPENSSL_free(c);
    return throw_range(env, "out of memory");
  }
  napi_value external;
  if (napi_create_external(env, c, finalize_context, NULL, &external) != napi_ok) {
    EVP_CIPHER_CTX_free(c->evp);
    OPENSSL_free(c);
    return throw_range(env, "cannot create the context");
  }
  return external;
}

static napi_value wipe(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) return throw_type(env, "wipe(context)");
  AeadContext *c = context_argument(env, argv[0]);
  if (c == NULL) return throw_type(env, "wipe: not a context");
  wipe_context(c);
  return NULL;
}

/**
 * seal(context, key, nonce, ad, plaintext, out) -> bytes written (plaintext + tag), or
 * open(context, key, nonce, ad, ciphertextAndTag, out) -> plaintext bytes, -1 when authentication
 * fails (out's first bytes are zeroed then: no unauthenticated plaintext is left behind).
 * out may be the input itself (in place) but must not otherwise overlap it.
 */
static napi_value run(napi_env env, napi_callback_info info, int encrypt) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6) {
    return throw_type(env, "expected (context, key, nonce, ad, input, out)");
  }
  AeadContext *c = context_argument(env, argv[0]);
  if (c == NULL) return throw_type(env, "not a context");
  unsigned char *key, *nonce, *ad, *in, *out;
  size_t key_length, nonce_length, ad_length, in_length, out_length;
  if (!uint8_array(env, argv[1], &key, &key_length) || !uint8_array(env, argv[2], &nonce, &nonce_length) ||
      !uint8_array(env, argv[3], &ad, &ad_length) || !uint8_array(env, argv[4], &in, &in_length) ||
      !uint8_array(env, argv[5], &out, &out_length)) {
    return throw_type(env, "key, nonce, ad, input and out must be Uint8Arrays");
  }
  if (key_length != KEY_LENGTH) return throw_range(env, "key must be 32 bytes");
  if (nonce_length != NONCE_LENGTH) return throw_range(env, "nonce must be 12 bytes");
  if (ad_length > INT_MAX || in_length > (size_t)INT_MAX - TAG_LENGTH) return throw_range(env, "input too large");
  if (!encrypt && in_length < TAG_LENGTH) return throw_range(env, "ciphertext shorter than its tag");
  size_t body = encrypt ? in_length : in_length - TAG_LENGTH;
  size_t needed = encrypt ? in_length + TAG_LENGTH : body;
  if (out_length < needed) return throw_range(env, "output buffer too small");
  if (out != in && overlaps(out, needed, in, in_length)) return throw_range(env, "output overlaps input");
  if (ad_length > 0 && overlaps(out, needed, ad, ad_length)) return throw_range(env, "output overlaps associated data");

  // Re-key only when the key or the direction changed; otherwise only the nonce is set, which
  // keeps the AES key schedule and GHASH tables from the last call.
  int rekey = !c->keyed || c->encrypt != encrypt || CRYPTO_memcmp(c->key, key, KEY_LENGTH) != 0;
  int ok;
  if (rekey) {
    wipe_context(c);
    ok = EVP_CipherInit_ex(c->evp, EVP_aes_256_gcm(), NULL, key, nonce, encrypt);
    if (ok) {
      memcpy(c->key, key, KEY_LENGTH);
      c->keyed = 1;
      c->encrypt = encrypt;
    }
  } else {
    ok = EVP_CipherInit_ex(c->evp, NULL, NULL, NULL, nonce, -1);
  }
  int written = 0, final_written = 0, ignored = 0;
  unsigned char tag[TAG_LENGTH];
  // An empty Uint8Array may have no memory at all; opening an empty record writes nothing, but
  // OpenSSL is still handed a real pointer.
  unsigned char nothing[1];
  if (out == NULL) out = nothing;
  if (ok && ad_length > 0) ok = EVP_CipherUpdate(c->evp, NULL, &ignored, ad, (int)ad_length);
  if (!encrypt) {
    // The tag is copied out first: an in-place open overwrites nothing past the body, but the
    // copy keeps that an argument rather than an assumption.
    memcpy(tag, in + body, TAG_LENGTH);
    if (ok) ok = EVP_CIPHER_CTX_ctrl(c->evp, EVP_CTRL_GCM_SET_TAG, TAG_LENGTH, tag);
  }
  if (ok && body > 0) ok = EVP_CipherUpdate(c->evp, out, &written, in, (int)body);
  if (ok) ok = EVP_CipherFinal_ex(c->evp, out + written, &final_written) > 0;
  if (ok && encrypt) ok = EVP_CIPHER_CTX_ctrl(c->evp, EVP_CTRL_GCM_GET_TAG, TAG_LENGTH, out + body);
  napi_value result;
  if (!ok) {
    if (needed > 0) OPENSSL_cleanse(out, needed);
    wipe_context(c); // a failed context is never trusted again: the next call re-keys
    if (encrypt) return throw_range(env, "AES-256-GCM encryption failed");
    napi_create_int32(env, -1, &result);
    return result;
  }
  napi_create_int32(env, (int)(encrypt ? body + TAG_LENGTH : body), &result);
  return result;
}

static napi_value seal(napi_env env, napi_callback_info info) { return run(env, info, 1); }
static napi_value open_(napi_env env, napi_callback_info info) { return run(env, info, 0); }

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
      {"newContext", NULL, new_context, NULL, NULL, NULL, napi_enumerable, NULL},
      {"seal", NULL, seal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"open", NULL, open_, NULL, NULL, NULL, napi_enumerable, NULL},
      {"wipe", NULL, wipe, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(methods) / sizeof(methods[0]), methods) != napi_ok) return NULL;
  return exports;
}
