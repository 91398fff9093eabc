/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_TEXT_H
#define GP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Text from the target (thread names, file names, native symbols) is bytes
 * the target controls. Every format gil-prof writes needs valid UTF-8
 * (proto3 strings, JSON, XML), so writers pass text through these.
 */

/*
 * Copy of s as valid UTF-8: each invalid byte becomes U+FFFD, control
 * characters (C0, DEL) become spaces. NULL on allocation failure.
 */
char *gp_text_clean(const char *s);

/* s, cleaned as above and escaped for XML text and attribute values. */
int gp_xml_put(FILE *out, const char *s);

/* The part of path after its last '/'. */
const char *gp_basename(const char *path);

struct gp_profile;
struct gp_location;

/*
 * A frame as the flame graph and the timeline show it, cleaned as above:
 * "func (file:LINE)", "func (file)" or "func"; the file as recorded (full)
 * or its base name; a native frame's file is its module. NULL on ENOMEM.
 */
char *gp_frame_text(const struct gp_profile *p, const struct gp_location *l, bool full);

#endif
