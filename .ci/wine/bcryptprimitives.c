/*
 * Test-only stand-in for Windows' bcryptprimitives.dll, for running the
 * Windows build under wine 8 (.ci/cross windows). Rust's standard library
 * imports bcryptprimitives.dll!ProcessPrng (Windows 10 and later) for its
 * random seeds; wine 8 has no such DLL, so every Rust program stops at load
 * with status c0000135. This DLL, placed beside the test programs, forwards
 * ProcessPrng to advapi32!SystemFunction036 (RtlGenRandom), which wine has.
 * It is never shipped: a real Windows has the genuine DLL.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *            bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Fills `data` with `len` random bytes; TRUE on success, as Windows' does. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
