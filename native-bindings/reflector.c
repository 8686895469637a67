/*
 * upt-reflector: opens a TUN device by name and writes every packet it reads back into the same
 * device, to measure what the TUN path itself costs before any TypeScript runs.
 *
 *   upt-reflector [options] NAME
 *     --swap          swap source and destination addresses (and TCP/UDP ports) before writing back,
 *                     so a packet sent to a peer behind the TUN comes back as that peer's answer
 *                     (addresses are summed commutatively into every checksum: none changes)
 *     --vnet-hdr      open with IFF_VNET_HDR and TUNSETOFFLOAD (checksum, TSO4/6, USO when the
 *                     kernel has it): packets up to 64 KiB, each behind a 10-byte virtio_net_hdr
 *     --multi-queue   open the device with IFF_MULTI_QUEUE (one queue; run more reflectors for more)
 *     --batch N       packets read before writing them back (default 64)
 *     --quiet         no "ready" line and no statistics
 *
 * Prints "ready NAME" on stdout once the device exists (the caller then sets addresses and brings
 * it up), and on SIGINT/SIGTERM prints the counters on stderr and exits 0. Exit 2: bad arguments;
 * exit 1: the device could not be opened or failed.
 *
 * Built with the addon by node-gyp (binding.gyp): build/Release/upt-reflector.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/tun_open.h"

#define MAX_BATCH 1024
#define SLOT (65536 + 64)

static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int signo) { stop_signal = signo; }

static void usage(FILE *out) {
  fprintf(out,
          "usage: upt-reflector [--swap] [--vnet-hdr] [--multi-queue] [--batch N] [--quiet] NAME\n"
          "  Opens TUN device NAME (creating it) and writes every packet it reads back into it.\n");
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint8_t t = a[i];
    a[i] = b[i];
    b[i] = t;
  }
}

/* Swaps addresses and, for TCP and UDP (first fragment only), ports. Checksums stay valid. */
static void swap_packet(uint8_t *p, size_t len) {
  if (len < 1) return;
  unsigned version = p[0] >> 4;
  if (version == 4 && len >= 20) {
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    swap_bytes(p + 12, p + 16, 4);
    unsigned fragment_offset = ((p[6] & 0x1f) << 8) | p[7];
    if ((p[9] == 6 || p[9] == 17) && fragment_offset == 0 && ihl >= 20 && len >= ihl + 4) swap_bytes(p + ihl, p + ihl + 2, 2);
  } else if (version == 6 && len >= 40) {
    swap_bytes(p + 8, p + 24, 16);
    if ((p[6] == 6 || p[6] == 17) && len >= 44) swap_bytes(p + 40, p + 42, 2);
  }
}

int main(int argc, char **argv) {
  int swap = 0, vnet = 0, multi_queue = 0, quiet = 0;
  long batch = 64;
  const char *name = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--swap") == 0) swap = 1;
    else if (strcmp(a, "--vnet-hdr") == 0) vnet = 1;
    else if (strcmp(a, "--multi-queue") == 0) multi_queue = 1;
    else if (strcmp(a, "--quiet") == 0) quiet = 1;
    else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--batch") == 0) {
      char *end = NULL;
      if (i + 1 >= argc) {
        fprintf(stderr, "upt-reflector: --batch needs a number\n");
        return 2;
      }
      batch = strtol(argv[++i], &end, 10);
      if (*end != '\0' || batch < 1 || batch > MAX_BATCH) {
        fprintf(stderr, "upt-reflector: --batch must be 1..%d, not %s\n", MAX_BATCH, argv[i]);
        return 2;
      }
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "upt-reflector: unknown option %s\n", a);
      usage(stderr);
      return 2;
    } else if (name == NULL) name = a;
    else {
      fprintf(stderr, "upt-reflector: one device name only (got %s and %s)\n", name, a);
      return 2;
    }
  }
  if (name == NULL || name[0] == '\0') {
    usage(stderr);
    return 2;
  }
  if (strlen(name) >= IFNAMSIZ) {
    fprintf(stderr, "upt-reflector: device name \"%s\" has %zu characters; interface names have at most %d\n", name,
            strlen(name), IFNAMSIZ - 1);
    return 2;
  }

  /* SIGINT/SIGTERM stay blocked except inside ppoll, so a signal can never slip in between the
     check of stop_signal and the wait: the wait returns EINTR instead. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  sigset_t blocked, wait_mask;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  sigprocmask(SIG_BLOCK, &blocked, &wait_mask);
  sigdelset(&wait_mask, SIGINT);
  sigdelset(&wait_mask, SIGTERM);

  struct upt_tun_request request;
  memset(&request, 0, sizeof request);
  request.name = name;
  request.multi_queue = multi_queue;
  request.vnet_hdr = vnet;
  request.offloads = UPT_TUN_F_CSUM | UPT_TUN_F_TSO4 | UPT_TUN_F_TSO6 | UPT_TUN_F_USO4 | UPT_TUN_F_USO6;
  request.nonblocking = 1;
  struct upt_tun_result tun;
  if (upt_tun_open(&request, &tun) < 0) {
    const char *hint = upt_tun_hint(&tun);
    fprintf(stderr, "upt-reflector: cannot open TUN device \"%s\": %s failed: %s%s%s\n", name, tun.step, strerror(tun.error),
            hint[0] ? "; " : "", hint);
    return 1;
  }

  uint8_t *buffer = malloc((size_t)batch * SLOT);
  size_t *lengths = malloc((size_t)batch * sizeof *lengths);
  if (buffer == NULL || lengths == NULL) {
    fprintf(stderr, "upt-reflector: out of memory\n");
    return 1;
  }
  if (!quiet) {
    printf("ready %s%s%s\n", tun.name, vnet ? " vnet-hdr" : "", swap ? " swap" : "");
    fflush(stdout);
  }

  unsigned long long packets = 0, bytes = 0, write_errors = 0, polls = 0;
  int status = 0;
  size_t header = vnet ? UPT_VNET_HDR_LEN : 0;
  struct pollfd pfd = {.fd = tun.fd, .events = POLLIN};
  while (!stop_signal) {
    int ready = ppoll(&pfd, 1, NULL, &wait_mask);
    if (ready < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "upt-reflector: poll: %s\n", strerror(errno));
      status = 1;
      break;
    }
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
      fprintf(stderr, "upt-reflector: device %s went away\n", tun.name);
      status = 1;
      break;
    }
    polls++;
    {
      long n = 0;
      while (n < batch) {
        ssize_t got = read(tun.fd, buffer + (size_t)n * SLOT, SLOT);
        if (got < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) break;
          fprintf(stderr, "upt-reflector: read: %s\n", strerror(errno));
          status = 1;
          goto done;
        }
        lengths[n++] = (size_t)got;
      }
      for (long i = 0; i < n; i++) {
        uint8_t *p = buffer + (size_t)i * SLOT;
        if (swap && lengths[i] > header) swap_packet(p + header, lengths[i] - header);
        ssize_t put;
        do put = write(tun.fd, p, lengths[i]);
        while (put < 0 && errno == EINTR);
        if (put < 0) write_errors++;
        else {
          packets++;
          bytes += (unsigned long long)lengths[i];
        }
      }
      /* Back to ppoll even after a full batch: it returns at once while packets wait, and it is
         where a pending SIGINT/SIGTERM gets delivered. */
    }
  }
done:
  if (!quiet) {
    fprintf(stderr, "upt-reflector: %s: reflected %llu packets, %llu bytes, %llu write errors, %llu polls%s%s\n", tun.name,
            packets, bytes, write_errors, polls, stop_signal ? ", stopped by " : "",
            stop_signal ? (stop_signal == SIGINT ? "SIGINT" : "SIGTERM") : "");
  }
  close(tun.fd);
  free(buffer);
  free(lengths);
  return status;
}
