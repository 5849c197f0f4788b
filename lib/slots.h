/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The A/B model: the device's slots, which one runs, which is standby, and
 * whether a device is in use. Private. */
#ifndef SWI_SLOTS_H
#define SWI_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libconfig.h>
#include "attrs.h"
#include "swinstall.h"

struct swi_slot {
	char *name;              /* "A" */
	char *device;            /* "/dev/mmcblk0p2" (or a plain file in tests) */
	char *select;            /* "stable,copy1" */
	struct swi_attrs bootenv; /* variables that make the bootloader boot it */
};

struct swi_slots {
	struct swi_slot *items;
	size_t count;
};

/*
 * Reads the configuration's `slots` list (file names the configuration file
 * for messages). Each slot needs name, device and select; bootenv is a group
 * of string (or integer) values. Names and devices must be unique.
 * SWI_ECONFIG "<file>:<line>: ..." on any mistake; out is left empty then.
 */
int swi_slots_parse(swi_ctx_t *ctx, const config_setting_t *list, const char *file,
		    struct swi_slots *out);
void swi_slots_free(struct swi_slots *s);

/*
 * Appends slot to s when it meets the rules of every slot: name, device and
 * select present, select "SET,MODE", a name and a device no slot of s has,
 * bootenv names every bootloader can hold. SWI_OK: s owns slot's strings
 * and slot is emptied. SWI_EINVAL (or SWI_ENOMEM): why holds the reason,
 * *member the slot's setting at fault (NULL: the slot as a whole), and slot
 * is still the caller's.
 */
int swi_slots_add(struct swi_slots *s, struct swi_slot *slot, char *why, size_t size,
		  const char **member);

const struct swi_slot *swi_slots_find(const struct swi_slots *s, const char *name);

/*
 * The running slot, found in this order:
 *   1. `swinstall.slot=NAME` or `rauc.slot=NAME` on the kernel command line
 *      (cmdline_file, normally /proc/cmdline);
 *   2. `root=` on the command line matched against the slots' devices: by
 *      path (after resolving symlinks), `PARTUUID=` / `PARTLABEL=` (through
 *      /dev/disk/by-partuuid, by-partlabel), or `MAJOR:MINOR` against a
 *      block device's st_rdev;
 *   3. the device mounted at `/` (mountinfo_file, normally
 *      /proc/self/mountinfo: its mount source, or its MAJOR:MINOR field).
 * *how says which source decided ("kernel command line swinstall.slot",
 * "root=", "mountinfo"). SWI_ECONFIG when no slots are configured or a named
 * slot does not exist; SWI_ECOMPAT "running slot unknown: ..." when nothing
 * matches.
 */
int swi_slots_running(swi_ctx_t *ctx, const struct swi_slots *s,
		      const char *cmdline_file, const char *mountinfo_file,
		      const struct swi_slot **running, const char **how);

/* The slot to install into while `running` runs: the first other slot. */
const struct swi_slot *swi_slots_standby(const struct swi_slots *s,
					 const struct swi_slot *running);

/*
 * True (1) when device is mounted according to mountinfo_file (same path
 * after resolving symlinks, or the same block device by st_rdev against the
 * MAJOR:MINOR field), with *where set to the mount point (malloc'd).
 * 0 when not, or a negative SWI_E* status.
 */
int swi_device_mounted(swi_ctx_t *ctx, const char *device, const char *mountinfo_file,
		       char **where);

/* True when a and b name the same file or block device (paths resolved,
 * block devices compared by st_rdev, files by st_dev+st_ino). */
bool swi_same_device(const char *a, const char *b);

/*
 * The part of block device `device` an entry (named label in messages) may
 * write from `offset` on. Where the device is a disk (or a partition) that
 * also holds the running slot or a mounted partition, a write starting
 * inside one of those is refused (SWI_ECOMPAT, naming it) and one starting
 * before them gets *limit, the bytes left before the first; else *limit is
 * UINT64_MAX. Extents come from sysfs; anything that is not a block device
 * has no extent (its identity is checked by swi_same_device()).
 */
int swi_target_window(swi_ctx_t *ctx, const char *label, const char *device, uint64_t offset,
		      const struct swi_slot *running, const char *mountinfo_file,
		      uint64_t *limit);

/*
 * Whether the root= of the kernel command line (cmdline_file) names device
 * or a device that shares disk space with it (a partition of that disk, or
 * the disk of that partition): 1 with *root set to the root= value
 * (malloc'd), 0 when not (or without root=), or a negative SWI_E* status.
 */
int swi_root_on_device(swi_ctx_t *ctx, const char *cmdline_file, const char *device,
		       char **root);

/* The slot whose every bootenv variable has its value in env (a
 * name -> value list read from the bootloader), or NULL. */
const struct swi_slot *swi_slots_booting_next(const struct swi_slots *s,
					      const struct swi_attrs *env);

#endif
