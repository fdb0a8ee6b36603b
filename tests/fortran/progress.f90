! Cancel and progress through include/pi.f90: a bind(C) progress callback
! sees samples_done never decrease and a final call at the count, the count
! is exact, a callback that returns non-zero cancels the run (output
! untouched), a null callback is pi_count_hits, and pi_engine_cancel with
! nothing running changes nothing (NULL refused). Built and run by
! tests/consumers.rs; stops with a non-zero code on the first failure.
module progress_log
  use, intrinsic :: iso_c_binding, only: c_int32_t, c_int64_t, c_ptr, c_associated
  implicit none
  logical :: got_user_data = .false.
  integer :: calls = 0, final_calls = 0, stop_at_call = 0
  logical :: decreased = .false.
  integer(c_int64_t) :: last_done = 0, seen_total = -1
contains
  function record(user_data, done, total) bind(C) result(halt)
    type(c_ptr), value :: user_data
    integer(c_int64_t), value :: done, total
    integer(c_int32_t) :: halt
    calls = calls + 1
    if (c_associated(user_data)) got_user_data = .true.
    if (done < last_done) decreased = .true.
    if (done == total) final_calls = final_calls + 1
    last_done = done
    seen_total = total
    halt = merge(1_c_int32_t, 0_c_int32_t, calls == stop_at_call)
  end function

  subroutine reset(stop_at)
    integer, intent(in) :: stop_at
    calls = 0
    final_calls = 0
    stop_at_call = stop_at
    decreased = .false.
    last_done = 0
    seen_total = -1
  end subroutine
end module progress_log

program progress
  use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr, c_null_funptr, c_funloc, c_int32_t, c_int64_t
  use pi
  use checks
  use progress_log
  implicit none
  type(c_ptr) :: engine
  integer(c_int64_t) :: hits, expected
  integer(c_int64_t), parameter :: n = 200000000_c_int64_t

  call check(PI_ABI_VERSION == 2 .and. pi_library_abi_version() == 2, "ABI version 2")
  call check(pi_engine_new(PI_BACKEND_CPU, 0_c_int32_t, engine) == PI_OK, "engine_new")

  call check(pi_engine_cancel(engine) == PI_OK, "cancel with nothing running")
  call check(pi_count_hits(engine, 42_c_int64_t, 0_c_int64_t, 123456789_c_int64_t, hits) == PI_OK, "count")
  call check(hits == 96964650, "exact count after a cancel with nothing running")
  call check(pi_engine_cancel(c_null_ptr) == PI_ERROR_INVALID_ARGUMENT, "cancel NULL")
  call check(index(pi_last_error(), "engine") > 0, "message names engine")

  call check(pi_count_hits(engine, 5_c_int64_t, 1_c_int64_t, n, expected) == PI_OK, "reference count")
  call reset(0)
  call check(pi_count_hits_progress(engine, 5_c_int64_t, 1_c_int64_t, n, c_funloc(record), c_null_ptr, hits) &
             == PI_OK, "count with progress")
  call check(hits == expected, "progress count equals pi_count_hits")
  call check(.not. decreased .and. seen_total == n .and. last_done == n .and. final_calls == 1, &
             "progress invariants")
  call check(.not. got_user_data, "user_data passed through (NULL here)")

  call reset(1)
  hits = -7
  call check(pi_count_hits_progress(engine, 5_c_int64_t, 1_c_int64_t, n, c_funloc(record), c_null_ptr, hits) &
             == PI_ERROR_CANCELLED, "a non-zero return cancels")
  call check(hits == -7 .and. calls == 1, "cancelled: output untouched, no more calls")

  call check(pi_count_hits_progress(engine, 42_c_int64_t, 0_c_int64_t, 1000_c_int64_t, c_null_funptr, &
             c_null_ptr, hits) == PI_OK .and. hits == 794, "null callback")

  call pi_engine_free(engine)
  print '(a)', "Fortran cancel and progress: all checks passed"

end program progress
