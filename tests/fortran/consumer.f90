! A Fortran 2008 consumer of include/pi.f90: known hit counts, batches and
! the bad-input statuses. Built and run by tests/consumers.rs; stops with a
! non-zero code on the first failure.
program consumer
  use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr, c_int32_t, c_int64_t, c_associated
  use pi
  use checks
  implicit none
  type(c_ptr) :: engine, other
  integer(c_int64_t) :: hits, batches(4)
  integer(c_int32_t) :: status

  call check(pi_library_abi_version() == PI_ABI_VERSION, "abi version")
  call check(index(pi_library_version(), ".") > 1, "version")

  engine = c_null_ptr
  status = pi_engine_new(PI_BACKEND_CPU, 0_c_int32_t, engine)
  call check(status == PI_OK .and. c_associated(engine), "engine_new")
  call check(pi_engine_backend(engine) == PI_BACKEND_CPU, "backend")
  call check(index(pi_describe(engine), "CPU") == 1, "describe")

  ! Known answers, from the pure-Python reference stream.
  hits = -1
  call check(pi_count_hits(engine, 42_c_int64_t, 0_c_int64_t, 1000_c_int64_t, hits) == PI_OK, "count")
  call check(hits == 794, "hits of seed 42")
  ! Seed 2^64 - 1 is -1 in a signed 64-bit integer; first = 2^33 - 3.
  call check(pi_count_hits(engine, -1_c_int64_t, 8589934589_c_int64_t, 1001_c_int64_t, hits) == PI_OK, "count max")
  call check(hits == 791, "hits of seed 2^64 - 1")

  batches = 0
  status = pi_count_hits_batched(engine, 42_c_int64_t, 0_c_int64_t, 250_c_int64_t, 4_c_int64_t, batches)
  call check(status == PI_OK .and. sum(batches) == 794, "batches")

  ! Bad input: a status and a message naming the argument; outputs untouched.
  hits = 777
  status = pi_count_hits(engine, 1_c_int64_t, -1_c_int64_t, 2_c_int64_t, hits)
  call check(status == PI_ERROR_INVALID_ARGUMENT .and. hits == 777, "range past 2^64")
  call check(index(pi_last_error(), "first") > 0, "message names first")
  status = pi_count_hits(c_null_ptr, 1_c_int64_t, 0_c_int64_t, 2_c_int64_t, hits)
  call check(status == PI_ERROR_INVALID_ARGUMENT .and. hits == 777, "NULL engine")
  call check(index(pi_last_error(), "engine") > 0, "message names engine")
  status = pi_engine_new(9_c_int32_t, 0_c_int32_t, other)
  call check(status == PI_ERROR_INVALID_ARGUMENT, "unknown backend")
  call check(index(pi_last_error(), "backend") > 0, "message names backend")
  status = pi_engine_new(PI_BACKEND_CPU, PI_MAX_CPU_THREADS + 1, other)
  call check(status == PI_ERROR_INVALID_ARGUMENT, "too many threads")

  call pi_engine_free(engine)
  print '(a)', "Fortran consumer: all checks passed"

end program consumer
