/*
 * fork() after an engine is made: the child gets the exact counts, or a GPU
 * engine's PI_ERROR_DEVICE within two seconds, and never hangs. Usage:
 * fork CASE, CASE one of cpu, auto, gpu, threads, threads-auto, gpu-list.
 * Prints "ok CASE"
 * and exits 0 when every check passed. Each child runs under alarm() and
 * the parent kills it after 30 s, so a hang fails instead of blocking.
 * Built and run by tests/fork.rs.
 */
#define _POSIX_C_SOURCE 200809L

#include "pi.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEED UINT64_C(0x0123456789ABCDEF)
#define BIG (UINT64_C(1) << 19) /* past the serial limit: the thread pool */
#define N_BATCHES 8

static int failures;

static void fail(const char *what) {
    char msg[512];
    pi_last_error_message(msg, sizeof msg);
    fprintf(stderr, "FAIL [%ld] %s (last error: %s)\n", (long)getpid(), what, msg);
    failures++;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Runs body() in a forked child under a 20 s alarm; the parent waits at most
 * 30 s, then kills it. Returns 1 when the child exited 0. */
static int in_child(const char *name, int (*body)(void)) {
    pid_t pid;
    int status = 0;
    double deadline = now() + 30.0;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "FAIL %s: fork failed\n", name);
        return 0;
    }
    if (pid == 0) {
        alarm(20);
        _exit(body());
    }
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "FAIL %s: the child hung for 30 s\n", name);
            return 0;
        }
        sleep_ms(5);
    }
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "FAIL %s: the child died of signal %d%s\n", name, WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (alarm: it hung)" : "");
        return 0;
    }
    if (WEXITSTATUS(status) != 0) {
        fprintf(stderr, "FAIL %s: the child exited %d\n", name, WEXITSTATUS(status));
        return 0;
    }
    return 1;
}

static pi_engine *engine;
static uint64_t big_hits, small_hits, batch_hits[N_BATCHES], big_batch_hits[3];

/* The parent's counts, made on the engine before any fork. */
static int count_in_parent(void) {
    if (pi_count_hits(engine, SEED, 7, BIG, &big_hits) != PI_OK) return 0;
    if (pi_count_hits(engine, SEED, 3, 1001, &small_hits) != PI_OK) return 0;
    if (pi_count_hits_batched(engine, SEED, 11, 999, N_BATCHES, batch_hits) != PI_OK) return 0;
    return pi_count_hits_batched(engine, SEED, 5, BIG, 3, big_batch_hits) == PI_OK;
}

/* Every count again, on `e`, against the parent's. */
static void check_counts(pi_engine *e, const char *who) {
    uint64_t hits = 0, batches[N_BATCHES] = {0}, big_batches[3] = {0};
    char what[128];
    snprintf(what, sizeof what, "%s: big count", who);
    if (pi_count_hits(e, SEED, 7, BIG, &hits) != PI_OK || hits != big_hits) fail(what);
    snprintf(what, sizeof what, "%s: small count", who);
    if (pi_count_hits(e, SEED, 3, 1001, &hits) != PI_OK || hits != small_hits) fail(what);
    snprintf(what, sizeof what, "%s: %d small batches", who, N_BATCHES);
    if (pi_count_hits_batched(e, SEED, 11, 999, N_BATCHES, batches) != PI_OK ||
        memcmp(batches, batch_hits, sizeof batches) != 0)
        fail(what);
    snprintf(what, sizeof what, "%s: 3 big batches", who);
    if (pi_count_hits_batched(e, SEED, 5, BIG, 3, big_batches) != PI_OK ||
        memcmp(big_batches, big_batch_hits, sizeof big_batches) != 0)
        fail(what);
}

/* A fresh engine of `backend` made in this process counts exactly too. */
static void check_new_engine(int32_t backend, const char *who) {
    pi_engine *fresh = NULL;
    int32_t rc = pi_engine_new(backend, 2, &fresh);
    if (rc == PI_ERROR_NO_DEVICE && backend == PI_BACKEND_GPU) return;
    if (rc != PI_OK) {
        fail("a new engine in the child");
        return;
    }
    check_counts(fresh, who);
    pi_engine_free(fresh);
}

/* The inherited engine counts exactly, twice, then a new one does. */
static int child_counts(void) {
    check_counts(engine, "inherited engine");
    check_counts(engine, "inherited engine, again");
    if (pi_engine_backend(engine) != PI_BACKEND_CPU) fail("backend in the child is not the CPU");
    check_new_engine(PI_BACKEND_CPU, "new CPU engine");
    check_new_engine(PI_BACKEND_AUTO, "new AUTO engine");
    pi_engine_free(engine); /* must not wait for the parent's threads */
    return failures;
}

/* A GPU engine: big runs fail fast with PI_ERROR_DEVICE, small ones (always
 * on the CPU) stay exact, and a new engine made here works. */
static int child_gpu(void) {
    uint64_t hits = 12345, batches[3] = {1, 2, 3};
    char text[512];
    double t0 = now();
    int32_t rc = pi_count_hits(engine, SEED, 7, BIG, &hits);
    double took = now() - t0;
    if (rc != PI_ERROR_DEVICE) fail("GPU engine in the child: not PI_ERROR_DEVICE");
    if (took > 2.0) fail("GPU engine in the child: took more than 2 s to fail");
    if (hits != 12345) fail("GPU engine in the child: hits_out written on failure");
    pi_last_error_message(text, sizeof text);
    if (!strstr(text, "fork")) fail("GPU engine in the child: the message does not mention fork");
    if (pi_count_hits_batched(engine, SEED, 5, BIG, 3, batches) != PI_ERROR_DEVICE) fail("GPU batches in the child");
    if (batches[0] != 1 || batches[1] != 2 || batches[2] != 3) fail("GPU batches: output written on failure");
    if (pi_count_hits(engine, SEED, 3, 1001, &hits) != PI_OK || hits != small_hits) fail("GPU engine, small count");
    check_new_engine(PI_BACKEND_CPU, "new CPU engine");
    check_new_engine(PI_BACKEND_GPU, "new GPU engine");
    pi_engine_free(engine);
    return failures;
}

static volatile sig_atomic_t stop;
static int32_t maker_backend = PI_BACKEND_CPU;

/* Counts on the shared engine without pause (keeping its pool busy). */
static void *busy_counter(void *arg) {
    uint64_t hits;
    (void)arg;
    while (!stop) {
        if (pi_count_hits(engine, SEED, 7, BIG, &hits) != PI_OK || hits != big_hits) fail("busy thread");
    }
    return NULL;
}

/* Makes, uses and frees engines without pause. */
static void *engine_maker(void *arg) {
    uint64_t hits;
    (void)arg;
    while (!stop) {
        pi_engine *e = NULL;
        if (pi_engine_new(maker_backend, 2, &e) != PI_OK) {
            fail("engine maker");
            continue;
        }
        if (pi_count_hits(e, SEED, 7, BIG, &hits) != PI_OK || hits != big_hits) fail("engine maker: count");
        pi_engine_free(e);
    }
    return NULL;
}

/* Forks five times while other threads count and make engines. */
static int forks_under_load(void) {
    pthread_t counter, maker;
    int k, ok = 1;
    if (pthread_create(&counter, NULL, busy_counter, NULL) != 0) return 0;
    if (pthread_create(&maker, NULL, engine_maker, NULL) != 0) return 0;
    for (k = 0; k < 5; k++) {
        sleep_ms(20 + 7 * k);
        ok &= in_child("fork while other threads count", child_counts);
    }
    stop = 1;
    pthread_join(counter, NULL);
    pthread_join(maker, NULL);
    return ok && failures == 0;
}

/* Lists the GPU adapters without pause (a Vulkan instance made and
 * dropped each time: the loader's and the driver's locks). */
static void *gpu_lister(void *arg) {
    char text[4096];
    (void)arg;
    while (!stop) pi_gpu_list(text, sizeof text);
    return NULL;
}

/* In a child forked while another thread listed adapters: a GPU engine
 * (any adapter; none is fine) is made and counts exactly. */
static int child_gpu_engine(void) {
    pi_engine *e = NULL;
    uint64_t hits = 0;
    int32_t rc = pi_engine_new(PI_BACKEND_GPU, 2, &e);
    if (rc == PI_ERROR_NO_DEVICE) return 0;
    if (rc != PI_OK) {
        fail("a GPU engine in the child");
        return failures;
    }
    if (pi_count_hits(e, SEED, 7, BIG, &hits) != PI_OK || hits != big_hits) fail("its count");
    pi_engine_free(e);
    return failures;
}

/* Forks 20 times, 20 to 90 ms apart, while another thread lists adapters. */
static int forks_while_listing(void) {
    pthread_t lister;
    int k, ok = 1;
    if (pthread_create(&lister, NULL, gpu_lister, NULL) != 0) return 0;
    for (k = 0; k < 20 && ok; k++) {
        sleep_ms(20 + (k * 37) % 71);
        ok &= in_child("fork while another thread lists GPUs", child_gpu_engine);
    }
    stop = 1;
    pthread_join(lister, NULL);
    return ok && failures == 0;
}

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "";
    int32_t backend = PI_BACKEND_CPU, rc;
    int ok;
    if (strcmp(name, "auto") == 0) backend = PI_BACKEND_AUTO;
    if (strcmp(name, "gpu") == 0) backend = PI_BACKEND_GPU;
    rc = pi_engine_new(backend, 2, &engine);
    if (rc == PI_ERROR_NO_DEVICE) {
        printf("no GPU adapter\n");
        return 0;
    }
    if (rc != PI_OK || !count_in_parent()) {
        fail("setup in the parent");
        return 1;
    }
    if (strcmp(name, "cpu") == 0 || strcmp(name, "auto") == 0) {
        ok = in_child(name, child_counts);
    } else if (strcmp(name, "gpu") == 0) {
        if (pi_engine_backend(engine) != PI_BACKEND_GPU) fail("GPU engine in the parent");
        ok = in_child(name, child_gpu);
    } else if (strcmp(name, "threads") == 0) {
        ok = forks_under_load();
    } else if (strcmp(name, "threads-auto") == 0) {
        /* The other thread makes AUTO engines: a fork may land while it
         * looks for a GPU adapter (in the Vulkan loader and driver). */
        maker_backend = PI_BACKEND_AUTO;
        ok = forks_under_load();
    } else if (strcmp(name, "gpu-list") == 0) {
        ok = forks_while_listing();
    } else {
        fprintf(stderr, "usage: fork cpu|auto|gpu|threads|threads-auto|gpu-list\n");
        return 2;
    }
    /* The parent's engine still works after the fork. */
    check_counts(engine, "parent after the fork");
    pi_engine_free(engine);
    if (!ok || failures) return 1;
    printf("ok %s\n", name);
    return 0;
}
