/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_FLAMETREE_H
#define GP_FLAMETREE_H

#include <stdint.h>

#include "../sampler/account/profile.h"

/*
 * The profile's stacks merged into one call tree, as a flame graph draws
 * it: a root ("all"), one child per thread, then the frames root first
 * (with --subprocesses, a level of processes between the root and threads).
 * Each node knows its samples per GIL state and, after layout, where it
 * starts (in samples from the left edge). Children are ordered: threads by
 * tid, frames by their label, so the same profile always draws the same.
 */
enum fg_kind {
	FG_ROOT = 0,
	FG_THREAD,
	FG_FRAME,
	FG_PROCESS,          /* --subprocesses: one per process, above its threads */
};

struct fg_node {
	uint32_t parent;
	uint32_t child;      /* first child; 0 = none (node 0 is the root) */
	uint32_t sibling;    /* next sibling; 0 = none */
	uint32_t key;        /* thread index (FG_THREAD), location id (FG_FRAME), pid */
	uint32_t depth;
	uint8_t kind;        /* enum fg_kind */
	uint64_t total;      /* samples in this node and below */
	uint64_t state[GP_STATE__MAX];
	uint64_t x;          /* samples left of this node, set by fg_tree_layout */
};

struct fg_tree {
	const struct gp_profile *p;
	struct fg_node *nodes;
	uint32_t n, cap;
	uint32_t max_depth;
	char **labels;          /* per location id: "func (file.py:LINE)", short file name */
	char **titles;          /* per location id: the same with the full file name */
};

/* Build the tree of p's stacks; 0, or -1 on allocation failure (errno set). */
int fg_tree_build(struct fg_tree *t, const struct gp_profile *p);
void fg_tree_free(struct fg_tree *t);

/* Sort children (threads by tid, frames by label) and set every x. */
void fg_tree_layout(struct fg_tree *t);

/*
 * The label (short file names) or title (full ones) of node i. Thread names
 * come raw from the target: write them through gp_xml_put or clean them.
 */
const char *fg_node_label(const struct fg_tree *t, uint32_t i, char *buf, size_t len);
const char *fg_node_title(const struct fg_tree *t, uint32_t i, char *buf, size_t len);

/* The GIL state with most samples in node (GP_STATE_NONE if none known). */
enum gp_gil_state fg_node_state(const struct fg_node *n);

#endif
