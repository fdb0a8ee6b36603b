! pi_progress.f90: pi through the Fortran module of an installed pi. An
! exact count, then a long count whose progress callback prints how far it
! got and stops the run once half of it is done (PI_ERROR_CANCELLED).
module progress_callback
  use, intrinsic :: iso_c_binding, only: c_int32_t, c_int64_t, c_ptr, c_f_pointer
  use, intrinsic :: iso_fortran_env, only: error_unit
  implicit none
contains
  ! A pi_progress_fn: user_data points to the sample count at which to stop.
  ! Returns 0 to go on, 1 to stop the run.
  function show(user_data, done, total) bind(C) result(halt)
    type(c_ptr), value :: user_data
    integer(c_int64_t), value :: done, total
    integer(c_int32_t) :: halt
    integer(c_int64_t), pointer :: stop_at
    call c_f_pointer(user_data, stop_at)
    write (error_unit, '(a, f6.1, a)') "progress: ", 100.0 * real(done) / real(total), " %"
    halt = merge(1_c_int32_t, 0_c_int32_t, done >= stop_at)
  end function
end module progress_callback

program pi_progress
  use, intrinsic :: iso_c_binding, only: c_ptr, c_loc, c_funloc, c_int32_t, c_int64_t
  use pi
  use progress_callback
  implicit none
  type(c_ptr) :: engine
  integer(c_int64_t) :: hits
  integer(c_int64_t), target :: stop_at
  integer(c_int32_t) :: status

  if (pi_engine_new(PI_BACKEND_CPU, 0_c_int32_t, engine) /= PI_OK) error stop "pi_engine_new"
  stop_at = huge(stop_at)
  status = pi_count_hits_progress(engine, 42_c_int64_t, 0_c_int64_t, 123456789_c_int64_t, &
                                  c_funloc(show), c_loc(stop_at), hits)
  if (status /= PI_OK) error stop "pi_count_hits_progress"
  print '(a, i0, a)', "seed 42, 123456789 samples: ", hits, " hits"

  stop_at = 200000000_c_int64_t
  hits = -1
  status = pi_count_hits_progress(engine, 42_c_int64_t, 0_c_int64_t, 400000000_c_int64_t, &
                                  c_funloc(show), c_loc(stop_at), hits)
  print '(a, i0, a, i0)', "stopped half way: status ", status, ", hits still ", hits
  call pi_engine_free(engine)
  if (status /= PI_ERROR_CANCELLED .or. hits /= -1) error stop 1
end program pi_progress
