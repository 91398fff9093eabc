// SPDX-License-Identifier: BSD-2-Clause
/*
 * agent_http.c — /metrics over HTTP with libmicrohttpd, served from its
 * own polling thread (poll(2): no limit on descriptor numbers, and the
 * agent holds many); render() takes the agent's lock.
 */
#define _GNU_SOURCE
#include "agent_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "../common/exitcodes.h"
#include "../common/gp_log.h"
#include "../../output/metrics.h"

struct gp_http {
	struct MHD_Daemon *d;
	gp_http_render_fn render;
	void *ctx;
};

int gp_http_parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
			 int *port, int *any)
{
	const char *colon = strrchr(listen, ':');
	char host[64], *end;
	long p;

	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || p < 1 || p > 65535)
		return -1;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	memset(addr, 0, sizeof(*addr));
	*port = (int)p;
	*any = !host[0];
	if (*any)
		return 0;
	if (host[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
		size_t n = strlen(host);

		if (n < 3 || host[n - 1] != ']')
			return -1;
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return -1;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*a6);
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)addr;

	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return -1;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)p);
	*len = sizeof(*a4);
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **state)
{
	static char not_found[] = "not found: this agent serves /metrics only\n";
	static char not_allowed[] = "only GET is served\n";
	struct gp_http *h = cls;
	char *buf = NULL;
	size_t len = 0;

	(void)version;
	(void)upload_data;
	/* A request body is read (and dropped) before the reply. */
	if (!*state) {
		*state = h;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
			     sizeof(not_allowed) - 1, MHD_RESPMEM_PERSISTENT);
	/* The agent reads target memory as root: /metrics and nothing else. */
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
			     sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT);
	if (h->render(h->ctx, &buf, &len)) {
		static char failed[] = "cannot render the metrics\n";

		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", failed,
			     sizeof(failed) - 1, MHD_RESPMEM_PERSISTENT);
	}
	return reply(c, MHD_HTTP_OK, GP_METRICS_CONTENT_TYPE, buf, len, MHD_RESPMEM_MUST_FREE);
}

int gp_http_start(struct gp_http **out, const char *listen, gp_http_render_fn render, void *ctx)
{
	struct sockaddr_storage addr;
	socklen_t len = 0;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
	struct gp_http *h;
	int port, any;

	*out = NULL;
	if (gp_http_parse_listen(listen, &addr, &len, &port, &any)) {
		gp_error("invalid --listen '%s'", listen);
		return GP_EXIT_USAGE;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		gp_error("out of memory");
		return GP_EXIT_FAILURE;
	}
	h->render = render;
	h->ctx = ctx;
	if (any)
		flags |= MHD_USE_DUAL_STACK;
	else if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	h->d = any ? MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, h,
				      MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END)
		   : MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, h,
				      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				      MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!h->d) {
		gp_error("cannot serve metrics at %s: %s", listen,
			 errno ? strerror(errno) : "the HTTP server did not start");
		free(h);
		return GP_EXIT_LISTEN;
	}
	*out = h;
	return 0;
}

void gp_http_stop(struct gp_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
