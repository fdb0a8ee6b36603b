/*
 * pi_example.c: pi through the C ABI of an installed pi (`cargo cinstall`).
 * An exact count, a long count that reports its progress, and one that its
 * progress callback stops half way. Progress goes to stderr, results to
 * stdout (the same on every machine).
 *
 *   cc pi_example.c $(pkg-config --cflags --libs pi) -o pi_example
 */
#include <pi.h>

#include <inttypes.h>
#include <stdio.h>

/* Prints the progress; stops the run (non-zero) once `*stop_at` samples are done. */
static int32_t show(void *user_data, uint64_t done, uint64_t total) {
    const uint64_t *stop_at = (const uint64_t *)user_data;
    fprintf(stderr, "\r%5.1f %% of %" PRIu64 " samples", 100.0 * (double)done / (double)total, total);
    if (done == total) fprintf(stderr, "\n");
    return done >= *stop_at;
}

static int fail(const char *what) {
    char msg[256];
    pi_last_error_message(msg, sizeof msg);
    fprintf(stderr, "%s failed: %s\n", what, msg);
    return 1;
}

int main(void) {
    pi_engine *engine = NULL;
    uint64_t hits = 0, never = UINT64_MAX, half = 200000000;
    int32_t status;

    if (pi_abi_version() != PI_ABI_VERSION) return fail("ABI check");
    if (pi_engine_new(PI_BACKEND_CPU, 0, &engine) != PI_OK) return fail("pi_engine_new");

    if (pi_count_hits(engine, 42, 0, 1000000, &hits) != PI_OK) return fail("pi_count_hits");
    printf("seed 42, 1e6 samples: %" PRIu64 " hits, pi ~ %.6f\n", hits, 4.0 * (double)hits / 1e6);

    status = pi_count_hits_progress(engine, 42, 0, 123456789, show, &never, &hits);
    if (status != PI_OK) return fail("pi_count_hits_progress");
    printf("seed 42, 123456789 samples: %" PRIu64 " hits\n", hits);

    hits = 0;
    status = pi_count_hits_progress(engine, 42, 0, 400000000, show, &half, &hits);
    fprintf(stderr, "\n");
    printf("stopped half way: status %d (PI_ERROR_CANCELLED is %d), hits still %" PRIu64 "\n",
           (int)status, PI_ERROR_CANCELLED, hits);

    pi_engine_free(engine);
    return status == PI_ERROR_CANCELLED ? 0 : 1;
}
