/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signature of sw-description. Private. */
#ifndef SWI_VERIFY_H
#define SWI_VERIFY_H

#include <stddef.h>
#include "context.h"

/*
 * Verifies sig over data with the key file in ctx's "public-key" option. The
 * kind follows from the PEM file: a certificate means a detached DER CMS
 * signature (chain to it, signer purpose from "cert-purpose", signer CN
 * pinned by "forced-signer-name"); a public key means RSA PKCS#1 v1.5 or
 * RSA-PSS with SHA-256. SWI_ESIG with the reason on any failure,
 * SWI_ECONFIG when the key file cannot be read.
 */
int swi_verify_signature(swi_ctx_t *ctx, const void *data, size_t len,
			 const void *sig, size_t siglen);

#endif
