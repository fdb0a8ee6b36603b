/*
 * One engine shared by many threads: every thread makes thousands of calls
 * of mixed sizes on the same engine, and every result must equal the count
 * made beforehand on one thread. Usage: threads [n_threads] [calls_each].
 * Built and run by tests/consumers.rs (also under valgrind, with fewer calls).
 */
#include "pi.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define N_CASES 16

static pi_engine *engine;
static uint64_t seeds[N_CASES], firsts[N_CASES], counts[N_CASES], expected[N_CASES];
static long calls_each = 1000;

static void *worker(void *arg) {
    long id = (long)(size_t)arg, k, bad = 0;
    for (k = 0; k < calls_each; k++) {
        int c = (int)((k * 7 + id) % N_CASES);
        uint64_t hits = 0;
        if (pi_count_hits(engine, seeds[c], firsts[c], counts[c], &hits) != PI_OK || hits != expected[c]) {
            bad++;
        }
    }
    return (void *)(size_t)bad;
}

int main(int argc, char **argv) {
    long n_threads = argc > 1 ? atol(argv[1]) : 8, t, bad = 0;
    pthread_t threads[64];
    int c;
    if (argc > 2) calls_each = atol(argv[2]);
    if (n_threads < 1 || n_threads > 64) return 2;
    if (pi_engine_new(PI_BACKEND_AUTO, 0, &engine) != PI_OK) return 1;
    for (c = 0; c < N_CASES; c++) {
        seeds[c] = (uint64_t)c * UINT64_C(0x9E3779B97F4A7C15);
        firsts[c] = (uint64_t)c * UINT64_C(1000003) + (c % 2 ? (UINT64_C(1) << 33) - 9 : 0);
        /* Mostly small runs (the calling thread), some past 2^17 (the pool). */
        counts[c] = (c % 4 == 3) ? 140001 + (uint64_t)c : 1 + (uint64_t)c * 777;
        if (pi_count_hits(engine, seeds[c], firsts[c], counts[c], &expected[c]) != PI_OK) return 1;
    }
    for (t = 0; t < n_threads; t++) {
        if (pthread_create(&threads[t], NULL, worker, (void *)(size_t)t) != 0) return 1;
    }
    for (t = 0; t < n_threads; t++) {
        void *r;
        pthread_join(threads[t], &r);
        bad += (long)(size_t)r;
    }
    pi_engine_free(engine);
    printf("threads: %ld threads x %ld calls on one engine, %ld wrong\n", n_threads, calls_each, bad);
    return bad == 0 ? 0 : 1;
}
