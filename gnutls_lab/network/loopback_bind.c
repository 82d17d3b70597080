/* LD_PRELOAD shim for peers that cannot be told where to listen (gnutls-serv binds 0.0.0.0 and ::).
 *
 * Every bind() to an IPv4 address becomes a bind to 127.0.0.1 (same port); IPv6 binds are refused
 * with EADDRNOTAVAIL, so the peer listens on loopback IPv4 only. Built on demand by
 * gnutls_lab.peers.loopback_preload(); used only for peers started by the lab's tests and helpers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	static int (*real_bind)(int, const struct sockaddr *, socklen_t);

	if (real_bind == NULL)
		real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
	if (addr != NULL && addr->sa_family == AF_INET6) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	if (addr != NULL && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		struct sockaddr_in loopback;

		memcpy(&loopback, addr, sizeof(loopback));
		loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return real_bind(fd, (const struct sockaddr *)&loopback, sizeof(loopback));
	}
	return real_bind(fd, addr, len);
}
