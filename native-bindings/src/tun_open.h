/*
 * Opening a Linux TUN device: shared by the Node addon (tun_addon.cc) and the reflector (reflector.c).
 * Plain C so that both can use it. See Documentation/networking/tuntap.rst in the kernel sources.
 */
#ifndef UPT_TUN_OPEN_H
#define UPT_TUN_OPEN_H

#include <net/if.h> /* IFNAMSIZ */

#ifdef __cplusplus
extern "C" {
#endif

/* Offload bits for TUNSETOFFLOAD (linux/if_tun.h); the USO ones are newer than some distributions' headers. */
#define UPT_TUN_F_CSUM 0x01
#define UPT_TUN_F_TSO4 0x02
#define UPT_TUN_F_TSO6 0x04
#define UPT_TUN_F_TSO_ECN 0x08
#define UPT_TUN_F_USO4 0x20
#define UPT_TUN_F_USO6 0x40

/* The 10-byte struct virtio_net_hdr that precedes every packet read or written with IFF_VNET_HDR. */
#define UPT_VNET_HDR_LEN 10

/* What upt_tun_open is asked for. */
struct upt_tun_request {
  const char *name;        /* "" or NULL: the kernel picks tunN; may contain one %d; at most 15 bytes */
  const char *clone_path;  /* NULL: /dev/net/tun */
  const char *netns_path;  /* NULL: the calling thread's namespace; else a file such as /run/netns/NAME */
  int multi_queue;         /* IFF_MULTI_QUEUE: open one more queue of a multi-queue device */
  int vnet_hdr;            /* IFF_VNET_HDR: a virtio_net_hdr before every packet */
  unsigned offloads;       /* with vnet_hdr: UPT_TUN_F_* to ask for; USO bits are dropped if the kernel refuses them */
  int nonblocking;         /* O_NONBLOCK on the file descriptor */
};

/* What it gives back. */
struct upt_tun_result {
  int fd;
  char name[IFNAMSIZ];     /* the device's actual name (from TUNGETIFF) */
  unsigned flags;          /* the IFF_* flags the kernel reports */
  unsigned offloads;       /* the offloads in force (0 without vnet_hdr) */
  const char *step;        /* on failure: which step failed, e.g. "ioctl(TUNSETIFF)" */
  int error;               /* on failure: the errno (positive) */
};

/*
 * Opens /dev/net/tun and attaches it to the named TUN device (IFF_TUN | IFF_NO_PI, plus the
 * requested flags), creating the device when it does not exist. Returns 0 with result->fd set, or
 * -1 with result->error and result->step set and nothing left open. The fd is close-on-exec.
 * When netns_path is given, the calling thread enters that namespace for the open and the ioctl
 * only and is put back before returning (the device lives there; the fd works from anywhere); if it
 * cannot be put back, the process aborts rather than run on in the wrong namespace.
 */
int upt_tun_open(const struct upt_tun_request *request, struct upt_tun_result *result);

/* A short hint for a failure of upt_tun_open ("" when there is nothing useful to add). */
const char *upt_tun_hint(const struct upt_tun_result *result);

#ifdef __cplusplus
}
#endif

#endif
