! pi.f90 - Fortran 2008 interface to the C ABI of pi (include/pi.h).
!
! Compile this module with your program and link to the library:
!   gfortran pi.f90 your_program.f90 -L<dir> -lpi
!
! The same rules as pi.h: every function returning a status returns PI_OK
! or a PI_ERROR_* code; the caller allocates every array; the only
! library-side allocation is the engine, released by pi_engine_free.
! Strings come back through pi_last_error, pi_describe and
! pi_library_version, which wrap the C calls and trim the result.
!
! Written by hand; tests/header.rs checks that its constants and C bindings
! match pi.h.
module pi
  use, intrinsic :: iso_c_binding, only: c_int32_t, c_int64_t, c_size_t, c_ptr, c_funptr, c_char, &
    c_f_pointer, c_associated
  implicit none
  private

  integer(c_int32_t), parameter, public :: PI_ABI_VERSION = 2

  integer(c_int32_t), parameter, public :: PI_OK = 0
  integer(c_int32_t), parameter, public :: PI_ERROR_INVALID_ARGUMENT = 1
  integer(c_int32_t), parameter, public :: PI_ERROR_NO_DEVICE = 2
  integer(c_int32_t), parameter, public :: PI_ERROR_DEVICE = 3
  integer(c_int32_t), parameter, public :: PI_ERROR_INTERNAL = 4
  integer(c_int32_t), parameter, public :: PI_ERROR_CANCELLED = 5

  integer(c_int32_t), parameter, public :: PI_BACKEND_AUTO = 0
  integer(c_int32_t), parameter, public :: PI_BACKEND_CPU = 1
  integer(c_int32_t), parameter, public :: PI_BACKEND_GPU = 2
  integer(c_int32_t), parameter, public :: PI_BACKEND_GPU_OR_CPU = 3

  integer(c_int32_t), parameter, public :: PI_GPU_DEFAULT = -2
  integer(c_int32_t), parameter, public :: PI_GPU_ALL = -1

  integer(c_int32_t), parameter, public :: PI_MAX_CPU_THREADS = 1024
  integer(c_int64_t), parameter, public :: PI_GPU_MIN_SAMPLES = 65536_c_int64_t

  public :: pi_engine_new_on, pi_gpu_list
  public :: pi_engine_new, pi_engine_free, pi_engine_backend, pi_engine_describe
  public :: pi_count_hits, pi_count_hits_batched, pi_last_error_message, pi_library_abi_version
  public :: pi_version
  public :: pi_engine_cancel, pi_count_hits_progress, pi_progress_fn
  public :: pi_last_error, pi_describe, pi_library_version

  ! The progress callback of pi_count_hits_progress (pi_progress_fn in pi.h):
  ! write a function with this interface and pass c_funloc(it), or
  ! c_null_funptr for none. Return 0 to go on, anything else to stop the run
  ! (the call then returns PI_ERROR_CANCELLED).
  abstract interface
    function pi_progress_fn(user_data, samples_done, samples_total) bind(C)
      import :: c_int32_t, c_int64_t, c_ptr
      type(c_ptr), value :: user_data
      integer(c_int64_t), value :: samples_done, samples_total
      integer(c_int32_t) :: pi_progress_fn
    end function
  end interface

  ! Fortran has no unsigned integers: seed, first, count, batch_size,
  ! n_batches and hits are integer(c_int64_t) holding the same 64 bits
  ! (a seed of 2^64 - 1 is -1_c_int64_t). Hit counts below 2^63 read as is.
  interface
    ! int32_t pi_engine_new(int32_t backend, uint32_t cpu_threads, pi_engine **engine_out);
    ! cpu_threads is unsigned: pass a value >= 0 (0 = all cores).
    function pi_engine_new(backend, cpu_threads, engine_out) bind(C, name="pi_engine_new")
      import :: c_int32_t, c_ptr
      integer(c_int32_t), value :: backend
      integer(c_int32_t), value :: cpu_threads
      type(c_ptr), intent(out) :: engine_out
      integer(c_int32_t) :: pi_engine_new
    end function

    ! int32_t pi_engine_new_on(int32_t backend, uint32_t cpu_threads, int32_t gpu,
    !                          pi_engine **engine_out);
    function pi_engine_new_on(backend, cpu_threads, gpu, engine_out) bind(C, name="pi_engine_new_on")
      import :: c_int32_t, c_ptr
      integer(c_int32_t), value :: backend
      integer(c_int32_t), value :: cpu_threads
      integer(c_int32_t), value :: gpu
      type(c_ptr), intent(out) :: engine_out
      integer(c_int32_t) :: pi_engine_new_on
    end function

    ! size_t pi_gpu_list(char *buf, size_t buf_len);
    function pi_gpu_list(buf, buf_len) bind(C, name="pi_gpu_list")
      import :: c_size_t, c_char
      character(kind=c_char), dimension(*) :: buf
      integer(c_size_t), value :: buf_len
      integer(c_size_t) :: pi_gpu_list
    end function

    ! void pi_engine_free(pi_engine *engine);
    subroutine pi_engine_free(engine) bind(C, name="pi_engine_free")
      import :: c_ptr
      type(c_ptr), value :: engine
    end subroutine

    ! int32_t pi_engine_backend(const pi_engine *engine);
    function pi_engine_backend(engine) bind(C, name="pi_engine_backend")
      import :: c_int32_t, c_ptr
      type(c_ptr), value :: engine
      integer(c_int32_t) :: pi_engine_backend
    end function

    ! size_t pi_engine_describe(const pi_engine *engine, char *buf, size_t buf_len);
    function pi_engine_describe(engine, buf, buf_len) bind(C, name="pi_engine_describe")
      import :: c_size_t, c_ptr, c_char
      type(c_ptr), value :: engine
      character(kind=c_char), dimension(*) :: buf
      integer(c_size_t), value :: buf_len
      integer(c_size_t) :: pi_engine_describe
    end function

    ! int32_t pi_count_hits(pi_engine *engine, uint64_t seed, uint64_t first,
    !                       uint64_t count, uint64_t *hits_out);
    function pi_count_hits(engine, seed, first, count, hits_out) bind(C, name="pi_count_hits")
      import :: c_int32_t, c_int64_t, c_ptr
      type(c_ptr), value :: engine
      integer(c_int64_t), value :: seed, first, count
      integer(c_int64_t), intent(inout) :: hits_out
      integer(c_int32_t) :: pi_count_hits
    end function

    ! int32_t pi_count_hits_batched(pi_engine *engine, uint64_t seed, uint64_t first,
    !                               uint64_t batch_size, uint64_t n_batches, uint64_t *hits_out);
    function pi_count_hits_batched(engine, seed, first, batch_size, n_batches, hits_out) &
        bind(C, name="pi_count_hits_batched")
      import :: c_int32_t, c_int64_t, c_ptr
      type(c_ptr), value :: engine
      integer(c_int64_t), value :: seed, first, batch_size, n_batches
      integer(c_int64_t), dimension(*), intent(inout) :: hits_out
      integer(c_int32_t) :: pi_count_hits_batched
    end function

    ! int32_t pi_engine_cancel(pi_engine *engine); callable from any thread.
    function pi_engine_cancel(engine) bind(C, name="pi_engine_cancel")
      import :: c_int32_t, c_ptr
      type(c_ptr), value :: engine
      integer(c_int32_t) :: pi_engine_cancel
    end function

    ! int32_t pi_count_hits_progress(pi_engine *engine, uint64_t seed, uint64_t first,
    !                                uint64_t count, pi_progress_fn progress,
    !                                void *user_data, uint64_t *hits_out);
    ! progress: c_funloc of a procedure(pi_progress_fn), or c_null_funptr.
    function pi_count_hits_progress(engine, seed, first, count, progress, user_data, hits_out) &
        bind(C, name="pi_count_hits_progress")
      import :: c_int32_t, c_int64_t, c_ptr, c_funptr
      type(c_ptr), value :: engine
      integer(c_int64_t), value :: seed, first, count
      type(c_funptr), value :: progress
      type(c_ptr), value :: user_data
      integer(c_int64_t), intent(inout) :: hits_out
      integer(c_int32_t) :: pi_count_hits_progress
    end function

    ! size_t pi_last_error_message(char *buf, size_t buf_len);
    function pi_last_error_message(buf, buf_len) bind(C, name="pi_last_error_message")
      import :: c_size_t, c_char
      character(kind=c_char), dimension(*) :: buf
      integer(c_size_t), value :: buf_len
      integer(c_size_t) :: pi_last_error_message
    end function

    ! int32_t pi_abi_version(void); Fortran names are case-insensitive, so
    ! this one is renamed to stay apart from the constant PI_ABI_VERSION.
    function pi_library_abi_version() bind(C, name="pi_abi_version")
      import :: c_int32_t
      integer(c_int32_t) :: pi_library_abi_version
    end function

    ! const char *pi_version(void); a static NUL-terminated string:
    ! pi_library_version() returns it as a Fortran string.
    function pi_version() bind(C, name="pi_version")
      import :: c_ptr
      type(c_ptr) :: pi_version
    end function

    ! The C library's strlen, to measure the string pi_version() points to.
    function c_strlen(s) bind(C, name="strlen")
      import :: c_size_t, c_ptr
      type(c_ptr), value :: s
      integer(c_size_t) :: c_strlen
    end function
  end interface

contains

  ! The last error message of this thread, without trailing blanks.
  function pi_last_error() result(msg)
    character(len=:), allocatable :: msg
    character(kind=c_char) :: buf(512)
    integer(c_size_t) :: n
    n = pi_last_error_message(buf, size(buf, kind=c_size_t))
    msg = from_c(buf, n)
  end function

  ! The description of an engine ("CPU, 2 threads, avx2 kernel", ...).
  function pi_describe(engine) result(text)
    type(c_ptr), intent(in) :: engine
    character(len=:), allocatable :: text
    character(kind=c_char) :: buf(512)
    integer(c_size_t) :: n
    n = pi_engine_describe(engine, buf, size(buf, kind=c_size_t))
    text = from_c(buf, n)
  end function

  ! The library version, "MAJOR.MINOR.PATCH".
  function pi_library_version() result(text)
    character(len=:), allocatable :: text
    type(c_ptr) :: p
    character(kind=c_char), pointer :: chars(:)
    integer(c_size_t) :: n
    p = pi_version()
    if (.not. c_associated(p)) then
      text = ""
      return
    end if
    n = c_strlen(p)
    call c_f_pointer(p, chars, [n + 1])
    text = from_c(chars, n)
  end function

  function from_c(buf, n) result(s)
    character(kind=c_char), intent(in) :: buf(:)
    integer(c_size_t), intent(in) :: n
    character(len=:), allocatable :: s
    integer :: i, m
    m = int(min(n, size(buf, kind=c_size_t) - 1))
    allocate (character(len=m) :: s)
    do i = 1, m
      s(i:i) = buf(i)
    end do
  end function
end module pi
