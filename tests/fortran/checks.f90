! The Fortran tests' one assertion: check(ok, what) stops with a non-zero
! code and the library's last error message when `ok` is false.
module checks
  use pi, only: pi_last_error
  implicit none
  private
  public :: check
contains
  subroutine check(ok, what)
    logical, intent(in) :: ok
    character(len=*), intent(in) :: what
    if (.not. ok) then
      print '(a, a, a, a)', "FAILED: ", what, "; last error: ", pi_last_error()
      error stop 1
    end if
  end subroutine
end module checks
