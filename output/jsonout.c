// SPDX-License-Identifier: BSD-2-Clause
/*
 * jsonout.c — json-c helpers shared by the JSON writers.
 */
#include "jsonout.h"

#include <stdlib.h>

#include "text.h"

/* json-c refuses invalid UTF-8 nowhere, so the text is cleaned first. */
struct json_object *gp_json_str(const char *s)
{
	char *clean = gp_text_clean(s);
	struct json_object *o;

	if (!clean)
		return NULL;
	o = json_object_new_string(clean);
	free(clean);
	return o;
}

int gp_json_put(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val || json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

int gp_json_append(struct json_object *arr, struct json_object *val)
{
	if (!val || json_object_array_add(arr, val)) {
		json_object_put(val);
		return -1;
	}
	return 0;
}
