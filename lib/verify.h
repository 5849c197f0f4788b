/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signature of sw-description. Private. */
#ifndef SWI_VERIFY_H
#define SWI_VERIFY_H

#include <stddef.h>
#include "context.h"

/*
 * Verifies sig over data with the key file in ctx's "public-key" option. The
 * kind follows from "signature-scheme" when it is set ("cms": a detached DER
 * CMS signature only; "rsa": RSA PKCS#1 v1.5 with SHA-256 only; "rsa-pss":
 * RSA-PSS with SHA-256 only), else from the PEM file: a certificate means CMS
 * (chain to it, signer purpose from "cert-purpose", signer CN pinned by
 * "forced-signer-name"); a public key means RSA PKCS#1 v1.5 or RSA-PSS.
 * SWI_ESIG with the reason on any failure, SWI_ECONFIG when the key file
 * cannot be read or does not fit the scheme.
 */
int swi_verify_signature(swi_ctx_t *ctx, const void *data, size_t len,
			 const void *sig, size_t siglen);

/*
 * What sig is, without verifying it (to show an image): *kind is "CMS" when
 * it parses as a DER CMS structure, else "RSA" (a bare signature, whose
 * padding only the key tells). For CMS, *signer (malloc'd) is the first
 * signer's common name, or its whole subject when it has none, taken from
 * the certificates the signature carries; NULL when it carries none for
 * the signer (openssl cms -sign -nocerts). SWI_OK, or SWI_ENOMEM.
 */
int swi_signature_describe(swi_ctx_t *ctx, const void *sig, size_t siglen,
			   const char **kind, char **signer);

#endif
