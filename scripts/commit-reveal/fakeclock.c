// LD_PRELOAD shim: if env FAKE_NOW is set (decimal seconds since the Unix epoch,
// fractional part allowed), clock_gettime(CLOCK_REALTIME[_COARSE]) returns it.
// Read on every call, so a Python process can change it via os.environ.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

typedef int (*cg_t)(clockid_t, struct timespec *);

int clock_gettime(clockid_t clk, struct timespec *ts) {
    static cg_t real = NULL;
    if (!real) real = (cg_t)dlsym(RTLD_NEXT, "clock_gettime");
    if (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE) {
        const char *s = getenv("FAKE_NOW");
        if (s && *s) {
            // parse "SEC[.FRAC]" exactly (no float rounding)
            long long sec = 0; long nsec = 0; const char *p = s;
            while (*p >= '0' && *p <= '9') { sec = sec * 10 + (*p - '0'); p++; }
            if (*p == '.') {
                p++; int digits = 0;
                while (*p >= '0' && *p <= '9' && digits < 9) { nsec = nsec * 10 + (*p - '0'); p++; digits++; }
                while (digits < 9) { nsec *= 10; digits++; }
            }
            ts->tv_sec = (time_t)sec; ts->tv_nsec = nsec;
            return 0;
        }
    }
    return real(clk, ts);
}
