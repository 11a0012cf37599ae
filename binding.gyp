# The one native addon of our own: AES-256-GCM over the OpenSSL inside Node.js
# (native/openssl_aead.c). npm compiles it with node-gyp at install, from source, against the
# headers of the Node.js that runs the install (.npmrc: nothing is downloaded). It builds with no
# warnings here; they are not made errors, so a newer compiler's new warning cannot break an install.
{
  "targets": [
    {
      "target_name": "openssl_aead",
      "sources": ["native/openssl_aead.c"],
      "cflags": ["-Wall", "-Wextra"]
    }
  ]
}
