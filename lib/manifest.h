/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sw-description -> plain C structs. Private. */
#ifndef SWI_MANIFEST_H
#define SWI_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>
#include "attrs.h"
#include "context.h"

enum swi_entry_kind {
	SWI_ENTRY_IMAGE,      /* from "images" */
	SWI_ENTRY_FILE,       /* from "files" */
	SWI_ENTRY_SCRIPT,     /* from "scripts" */
	SWI_ENTRY_PARTITION,  /* from "partitions" */
};

struct swi_entry {
	enum swi_entry_kind kind;
	const char *collection;   /* "images", "files", "scripts", "partitions" or "bootenv" */
	unsigned index;           /* its place in that collection, from 0 (for messages) */
	/* Archive member. Image, file and script entries without one are
	 * skipped, so it is NULL only for partitions (they carry no data). */
	const char *filename;
	const char *type;         /* handler name, SWUpdate's defaults applied, "uboot" -> "bootloader" */
	const char *sha256;       /* 64 lowercase hex digits, or NULL */
	const char *compressed;   /* NULL, "zlib", "zstd" or "xz" */
	const char *name;         /* for sw-versions, or NULL */
	const char *version;      /* or NULL */
	bool encrypted;
	bool install_if_different;
	bool install_if_higher;
	/* Every attribute as written, with its kind: strings as they are,
	 * booleans "true" / "false", numbers in decimal, lists of values as
	 * lists, a "properties" group as "properties.KEY". "type", "sha256" and
	 * "compressed" hold the normalized values above. The pointers above
	 * point into these values. */
	struct swi_attrs attrs;
};

struct swi_manifest {
	char *version;            /* software.version, or NULL */
	char *description;
	char **hwcompat;          /* hardware-compatibility revisions */
	size_t nhwcompat;
	struct swi_entry *entries; /* images, files, scripts, partitions of the choice made */
	size_t nentries;
	struct swi_attrs bootenv;  /* bootenv / uboot name=value ("" removes) */
	struct swi_attrs bootenv_hooks; /* bootenv variables with a hook: name=function */
	char *embedded_script;     /* embedded-script (Lua source), or NULL */
	/* Parsed without a selection: the selections "SET,MODE" the image
	 * offers, separated by spaces, or NULL when it offers none. */
	char *selections;
	/* The boards the image has groups for (software.BOARD holding a
	 * collection or a selection), separated by spaces, or NULL. */
	char *boards;
};

/*
 * Parses sw-description text: libconfig syntax as real files write it
 * (including what libconfig 1.5 alone rejects, such as trailing commas) or
 * JSON, told by the content (lib/tree.h).
 * board: the device's board name (may be NULL); select: "SET,MODE" or NULL.
 * For each field and collection separately, the most specific place wins:
 * board+selection, selection, board, root. Links (ref = "#PATH") are followed.
 * Entries are listed images, files, scripts, partitions, then bootenv entries
 * with a filename (bootloader files, kind IMAGE).
 * An unknown selection is SWI_ECOMPAT; malformed text is SWI_EFORMAT with the
 * line (and for JSON the column) in the message, a value of the wrong kind
 * is named by its line or, from JSON, its path. On failure *m is left empty
 * (safe to free).
 */
int swi_manifest_parse(swi_ctx_t *ctx, const char *text, size_t len,
		       const char *board, const char *select,
		       struct swi_manifest *m);
void swi_manifest_free(struct swi_manifest *m);

/*
 * Derives e's fields again from its attributes, after they changed (the
 * changes of a hook): type defaults and "uboot" -> "bootloader", compressed
 * true -> "zlib", sha256 in lowercase, the pointers above. Fails like the
 * parse on a value it would refuse, and on an entry left without its
 * filename (only partitions have none).
 */
int swi_entry_refresh(swi_ctx_t *ctx, struct swi_entry *e);

#endif
