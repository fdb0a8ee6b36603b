/*
 * Resource limits and freeing. Usage: limits CASE, CASE one of
 *   refusal  under an address-space limit too small for 1024 threads,
 *            pi_engine_new(CPU, 1024) is refused 10 times in a row with
 *            PI_ERROR_INVALID_ARGUMENT naming cpu_threads, never aborts,
 *            and leaves no thread behind nor more address space after the
 *            tenth refusal than after the first; a small engine then works;
 *   free     pi_engine_free returns after the engine's threads have exited:
 *            right after it, this process is back to its one thread.
 * Prints "ok CASE" and exits 0 when every check passed. Built and run by
 * tests/limits.rs.
 */
#define _DEFAULT_SOURCE

#include "pi.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int failures;

static void fail(const char *what) {
    fprintf(stderr, "FAIL %s\n", what);
    failures++;
}

/* Threads of this process, from /proc/self/task. */
static int threads_now(void) {
    int n = 0;
    struct dirent *d;
    DIR *dir = opendir("/proc/self/task");
    if (!dir) return -1;
    while ((d = readdir(dir)) != NULL)
        if (d->d_name[0] != '.') n++;
    closedir(dir);
    return n;
}

/* VmSize of this process, in KiB. */
static long vm_kib(void) {
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmSize:", 7) == 0) kib = strtol(line + 7, NULL, 10);
    fclose(f);
    return kib;
}

/* A count on a fresh engine of `threads` threads, against the reference. */
static void small_engine_works(uint32_t threads) {
    pi_engine *e = NULL;
    uint64_t hits = 0;
    if (pi_engine_new(PI_BACKEND_CPU, threads, &e) != PI_OK) {
        fail("a small engine after the refusals");
        return;
    }
    if (pi_count_hits(e, 42, 0, 1000000, &hits) != PI_OK || hits != 785856) fail("its count");
    pi_engine_free(e);
}

static int refusal(void) {
    struct rlimit old, tight;
    long first_vm = 0;
    int k, base = threads_now();
    char msg[512];
    if (getrlimit(RLIMIT_AS, &old) != 0) return 1;
    /* Room for a few dozen threads' stacks, not for 1024. */
    tight = old;
    tight.rlim_cur = (rlim_t)(vm_kib() + 64 * 1024) * 1024;
    if (setrlimit(RLIMIT_AS, &tight) != 0) return 1;
    for (k = 1; k <= 10; k++) {
        pi_engine *e = NULL;
        int32_t rc = pi_engine_new(PI_BACKEND_CPU, 1024, &e);
        pi_last_error_message(msg, sizeof msg);
        if (rc != PI_ERROR_INVALID_ARGUMENT || e != NULL || !strstr(msg, "cpu_threads = 1024")) {
            fprintf(stderr, "attempt %d: status %d, message: %s\n", k, (int)rc, msg);
            fail("1024 threads under the limit: not PI_ERROR_INVALID_ARGUMENT naming cpu_threads");
            if (rc == PI_OK) pi_engine_free(e);
        }
        if (threads_now() != base) {
            fprintf(stderr, "attempt %d: %d threads, %d before\n", k, threads_now(), base);
            fail("threads left behind by a refused engine");
        }
        if (k == 1) first_vm = vm_kib();
        if (k == 10 && vm_kib() > first_vm) {
            fprintf(stderr, "VmSize %ld KiB after 10 attempts, %ld after the first\n", vm_kib(), first_vm);
            fail("address space left behind by refused engines");
        }
    }
    small_engine_works(4);
    if (setrlimit(RLIMIT_AS, &old) != 0) return 1;
    return failures;
}

static int freeing(void) {
    int k, base = threads_now();
    for (k = 0; k < 5; k++) {
        pi_engine *e = NULL;
        uint64_t hits = 0;
        if (pi_engine_new(PI_BACKEND_CPU, 200, &e) != PI_OK) {
            fail("a 200-thread engine");
            return failures;
        }
        if (pi_count_hits(e, 42, 0, 1000000, &hits) != PI_OK || hits != 785856) fail("its count");
        if (threads_now() != base + 199) fail("not 199 workers beside the calling thread");
        pi_engine_free(e);
        if (threads_now() != base) {
            fprintf(stderr, "%d threads right after the free, %d before the engine\n", threads_now(), base);
            fail("pi_engine_free returned before its threads exited");
        }
    }
    return failures;
}

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "";
    int rc;
    if (strcmp(name, "refusal") == 0) {
        rc = refusal();
    } else if (strcmp(name, "free") == 0) {
        rc = freeing();
    } else {
        fprintf(stderr, "usage: limits refusal|free\n");
        return 2;
    }
    if (rc) return 1;
    printf("ok %s\n", name);
    return 0;
}
