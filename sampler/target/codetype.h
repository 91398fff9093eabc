/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GILPROF_CODETYPE_H
#define GILPROF_CODETYPE_H

#include <stdint.h>

#include "../../unwind/pyobj.h"

/*
 * &PyCode_Type of a process whose files export no symbols, learnt from
 * its running code: the type of a frame's code object, checked to be the
 * type named "code". 0 when no thread of the main interpreter has a
 * Python frame yet (an interpreter still starting) or nothing checks out.
 */
uint64_t gp_find_code_type(const struct gp_pyobj *r, uint64_t runtime);

#endif
