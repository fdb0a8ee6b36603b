/*
 * The C tests' one assertion: CHECK(cond) counts a failure in `failures`
 * and prints where, with the library's last error message, then goes on.
 */
#ifndef PI_TESTS_CHECK_H
#define PI_TESTS_CHECK_H

#include "pi.h"

#include <stdio.h>

static int failures = 0;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            char msg_[256];                                                \
            pi_last_error_message(msg_, sizeof msg_);                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", \
                    __FILE__, __LINE__, #cond, msg_);                      \
            failures++;                                                    \
        }                                                                  \
    } while (0)

#endif
