/* Opening a Linux TUN device; see tun_open.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns */
#endif
#include "tun_open.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int fail(struct upt_tun_result *result, const char *step, int error) {
  result->fd = -1;
  result->step = step;
  result->error = error;
  return -1;
}

/* The open and the ioctls, in whatever namespace the thread is in now. */
static int open_here(const struct upt_tun_request *request, struct upt_tun_result *result) {
  const char *clone_path = request->clone_path != NULL ? request->clone_path : "/dev/net/tun";
  int open_flags = O_RDWR | O_CLOEXEC | (request->nonblocking ? O_NONBLOCK : 0);
  int fd = open(clone_path, open_flags);
  if (fd < 0) return fail(result, "open", errno);

  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (request->multi_queue) ifr.ifr_flags |= IFF_MULTI_QUEUE;
  if (request->vnet_hdr) ifr.ifr_flags |= IFF_VNET_HDR;
  if (request->name != NULL) memcpy(ifr.ifr_name, request->name, strlen(request->name)); /* length checked by the caller */
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int error = errno;
    close(fd);
    return fail(result, "ioctl(TUNSETIFF)", error);
  }

  struct ifreq got;
  memset(&got, 0, sizeof got);
  if (ioctl(fd, TUNGETIFF, &got) < 0) {
    int error = errno;
    close(fd);
    return fail(result, "ioctl(TUNGETIFF)", error);
  }
  memcpy(result->name, got.ifr_name, IFNAMSIZ);
  result->name[IFNAMSIZ - 1] = '\0';
  result->flags = (unsigned short)got.ifr_flags;

  result->offloads = 0;
  if (request->vnet_hdr) {
    unsigned wanted = request->offloads;
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)wanted) < 0) {
      /* UDP segmentation offload came with Linux 6.2: ask again without it. */
      unsigned without_uso = wanted & ~(unsigned)(UPT_TUN_F_USO4 | UPT_TUN_F_USO6);
      if (without_uso == wanted || ioctl(fd, TUNSETOFFLOAD, (unsigned long)without_uso) < 0) {
        int error = errno;
        close(fd);
        return fail(result, "ioctl(TUNSETOFFLOAD)", error);
      }
      wanted = without_uso;
    }
    result->offloads = wanted;
  }
  result->fd = fd;
  result->step = NULL;
  result->error = 0;
  return 0;
}

int upt_tun_open(const struct upt_tun_request *request, struct upt_tun_result *result) {
  memset(result, 0, sizeof *result);
  result->fd = -1;
  if (request->name != NULL && strlen(request->name) >= IFNAMSIZ) return fail(result, "name", EINVAL);
  if (request->netns_path == NULL) return open_here(request, result);

  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) return fail(result, "open(/proc/thread-self/ns/net)", errno);
  int target = open(request->netns_path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int error = errno;
    close(home);
    return fail(result, "open(netns)", error);
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    int error = errno;
    close(target);
    close(home);
    return fail(result, "setns", error);
  }
  close(target);
  int rc = open_here(request, result);
  if (setns(home, CLONE_NEWNET) < 0) {
    fprintf(stderr, "uptables tun: cannot return to the original network namespace (%s); aborting\n", strerror(errno));
    abort();
  }
  close(home);
  return rc;
}

const char *upt_tun_hint(const struct upt_tun_result *result) {
  const char *step = result->step != NULL ? result->step : "";
  switch (result->error) {
    case EPERM:
    case EACCES:
      if (strcmp(step, "setns") == 0) return "entering a network namespace needs root (CAP_SYS_ADMIN)";
      return "creating or attaching a TUN device needs root (CAP_NET_ADMIN)";
    case ENOENT:
    case ENODEV:
    case ENXIO:
      if (strcmp(step, "open") == 0) return "no TUN support: is the tun module loaded (modprobe tun) and /dev/net/tun present?";
      if (strcmp(step, "open(netns)") == 0) return "no such network namespace";
      return "";
    case EBUSY:
      return "a device of that name exists and is already attached (a single-queue TUN takes one open at a time)";
    case EINVAL:
      if (strcmp(step, "name") == 0) return "interface names have at most 15 characters";
      if (strcmp(step, "ioctl(TUNSETIFF)") == 0)
        return "bad name, or a device of that name exists with other flags (TAP, multi-queue or vnet header mismatch)";
      if (strcmp(step, "ioctl(TUNSETOFFLOAD)") == 0) return "the kernel refused these offloads";
      return "";
    default:
      return "";
  }
}
