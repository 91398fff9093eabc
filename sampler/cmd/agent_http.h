/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_AGENT_HTTP_H
#define GP_AGENT_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * The agent's HTTP endpoint (libmicrohttpd, in a thread of its own: render
 * takes the agent's lock, so a scrape reads the sessions between two
 * polls). It serves
 * GET /metrics (render's text) and GET / (a link to it); anything else is
 * refused: the agent reads other processes' memory as root.
 */
struct gp_http;

/* Text of /metrics, malloc'ed into *buf (*len bytes). 0 or -1. */
typedef int (*gp_http_render_fn)(void *ctx, char **buf, size_t *len);

/*
 * Parse --listen: "HOST:PORT" with HOST an IPv4 address, "[IPv6]" or empty
 * (every address, IPv4 and IPv6). 0, or -1 if it is none of them.
 */
int gp_http_parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
			 int *port, int *any);

/* Bind listen and serve. 0 or an exit code (printed). */
int gp_http_start(struct gp_http **h, const char *listen, gp_http_render_fn render, void *ctx);

void gp_http_stop(struct gp_http *h);

#endif
