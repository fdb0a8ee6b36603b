/*
 * A C consumer of include/pi.h: known hit counts, batches, every bad-input
 * status, and the snprintf-like strings. Built as C99 and as C++ by
 * tests/consumers.rs, and run under valgrind there. Exit status 0 = pass.
 */
#include "pi.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

/* The last error message contains `word`. */
static int last_error_names(const char *word) {
    char msg[256];
    pi_last_error_message(msg, sizeof msg);
    return strstr(msg, word) != NULL;
}

int main(void) {
    pi_engine *engine = NULL;
    uint64_t hits = 0;
    uint64_t batches[4] = {0, 0, 0, 0};
    uint64_t untouched[2] = {12345, 12345};
    char buf[8];
    size_t len;
    int i;

    CHECK(pi_abi_version() == PI_ABI_VERSION);
    CHECK(strlen(pi_version()) > 0);

    CHECK(pi_engine_new(PI_BACKEND_CPU, 0, &engine) == PI_OK);
    CHECK(engine != NULL);
    if (engine == NULL) return 1;
    CHECK(pi_engine_backend(engine) == PI_BACKEND_CPU);

    /* Known answers, from the pure-Python reference stream. */
    CHECK(pi_count_hits(engine, 42, 0, 1000, &hits) == PI_OK && hits == 794);
    CHECK(pi_count_hits(engine, UINT64_MAX, (UINT64_C(1) << 33) - 3, 1001, &hits) == PI_OK && hits == 791);
    CHECK(pi_count_hits(engine, 5, 0, 0, &hits) == PI_OK && hits == 0);
    CHECK(pi_count_hits(engine, 5, UINT64_MAX, 1, &hits) == PI_OK && hits <= 1);

    /* Batches add up to the whole. */
    CHECK(pi_count_hits_batched(engine, 42, 0, 250, 4, batches) == PI_OK);
    CHECK(batches[0] + batches[1] + batches[2] + batches[3] == 794);

    /* Bad input: a status, a message naming the argument, outputs untouched. */
    hits = 777;
    CHECK(pi_count_hits(NULL, 1, 0, 10, &hits) == PI_ERROR_INVALID_ARGUMENT && hits == 777);
    CHECK(last_error_names("engine"));
    CHECK(pi_count_hits(engine, 1, 0, 10, NULL) == PI_ERROR_INVALID_ARGUMENT);
    CHECK(last_error_names("hits_out"));
    CHECK(pi_count_hits(engine, 1, UINT64_MAX, 2, &hits) == PI_ERROR_INVALID_ARGUMENT && hits == 777);
    CHECK(last_error_names("first"));
    CHECK(pi_count_hits_batched(engine, 1, 0, UINT64_MAX, 2, untouched) == PI_ERROR_INVALID_ARGUMENT);
    CHECK(last_error_names("batch_size"));
    CHECK(pi_count_hits_batched(engine, 1, 1, UINT64_C(1) << 63, 2, untouched) == PI_ERROR_INVALID_ARGUMENT);
    CHECK(pi_count_hits_batched(engine, 1, 0, 1, UINT64_MAX, untouched) == PI_ERROR_INVALID_ARGUMENT);
    CHECK(last_error_names("n_batches"));
    CHECK(pi_count_hits_batched(engine, 1, 0, 1, 2, NULL) == PI_ERROR_INVALID_ARGUMENT);
    CHECK(pi_count_hits_batched(NULL, 1, 0, 1, 2, untouched) == PI_ERROR_INVALID_ARGUMENT);
    CHECK(untouched[0] == 12345 && untouched[1] == 12345);
    {
        pi_engine *other = (pi_engine *)&hits; /* must stay as it is */
        CHECK(pi_engine_new(7, 0, &other) == PI_ERROR_INVALID_ARGUMENT);
        CHECK(last_error_names("backend"));
        CHECK(other == (pi_engine *)&hits);
        CHECK(pi_engine_new(-1, 0, &other) == PI_ERROR_INVALID_ARGUMENT);
        CHECK(pi_engine_new(PI_BACKEND_CPU, 0, NULL) == PI_ERROR_INVALID_ARGUMENT);
        CHECK(last_error_names("engine_out"));
    }

    /* Strings behave like snprintf: full length back, truncated copy. */
    len = pi_engine_describe(engine, buf, sizeof buf);
    CHECK(len > sizeof buf && strlen(buf) == sizeof buf - 1);
    CHECK(strncmp(buf, "CPU", 3) == 0);
    CHECK(pi_engine_describe(engine, NULL, 0) == len);
    CHECK(pi_engine_describe(NULL, buf, sizeof buf) == 0 && buf[0] == '\0');
    CHECK(pi_engine_backend(NULL) == -1);
    CHECK(pi_last_error_message(NULL, 0) > 0);

    /* A GPU request either works or says there is no device. */
    {
        pi_engine *gpu = NULL;
        int32_t status = pi_engine_new(PI_BACKEND_GPU, 0, &gpu);
        CHECK(status == PI_OK || status == PI_ERROR_NO_DEVICE);
        if (status == PI_OK) {
            CHECK(pi_engine_backend(gpu) == PI_BACKEND_GPU);
            CHECK(pi_count_hits(gpu, 42, 0, 1000, &hits) == PI_OK && hits == 794);
            CHECK(pi_count_hits(gpu, 42, 1, 1000000, &hits) == PI_OK);
            CHECK(pi_count_hits(engine, 42, 1, 1000000, &batches[0]) == PI_OK && batches[0] == hits);
        } else {
            CHECK(gpu == NULL);
        }
        pi_engine_free(gpu);
    }

    for (i = 0; i < 3; i++) {
        pi_engine *e = NULL;
        CHECK(pi_engine_new(PI_BACKEND_AUTO, 1, &e) == PI_OK);
        CHECK(pi_count_hits(e, 42, 0, 1000, &hits) == PI_OK && hits == 794);
        pi_engine_free(e);
    }
    pi_engine_free(NULL);
    pi_engine_free(engine);

    if (failures == 0) printf("C consumer: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
