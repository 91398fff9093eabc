/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_FLAMEGRAPH_H
#define GP_FLAMEGRAPH_H

/* output/flamegraph.js, built in as bytes (xxd -i, see Makefile). */
extern unsigned char gp_flamegraph_js[];
extern unsigned int gp_flamegraph_js_len;

#endif
