/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_JSONOUT_H
#define GP_JSONOUT_H

#include <json-c/json.h>

/*
 * json-c helpers shared by the JSON writers (speedscope, Chrome trace).
 * Each takes ownership of val: on failure val is freed and -1 returned,
 * so calls chain with || and one cleanup.
 */

/* A JSON string of s cleaned to valid UTF-8 (gp_text_clean); NULL on ENOMEM. */
struct json_object *gp_json_str(const char *s);
/* obj[key] = val. 0 or -1. */
int gp_json_put(struct json_object *obj, const char *key, struct json_object *val);
/* arr.append(val). 0 or -1. */
int gp_json_append(struct json_object *arr, struct json_object *val);

#endif
