/* Floating-point results that a host CPU with FMA and wider vectors must not change: Wasm
 * rounds every multiply and add by itself (no contraction), and its min/max, sqrt and
 * saturating conversions are exact. Built with -O3 -msimd128, so the loops run as f64x2/f32x4
 * code; prints every result's bits, one per line, then "fma: unfused" when a*b+c was rounded
 * twice. No MPI: the same output is expected on every engine. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 64

static uint64_t bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static uint32_t bitsf(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

__attribute__((noinline)) static void axpy(const double *a, const double *b, const double *c,
                                           double *r, int n)
{
    for (int i = 0; i < n; i++) r[i] = a[i] * b[i] + c[i];
}

__attribute__((noinline)) static void axpyf(const float *a, const float *b, const float *c,
                                            float *r, int n)
{
    for (int i = 0; i < n; i++) r[i] = a[i] * b[i] + c[i];
}

int main(void)
{
    static double a[N], b[N], c[N], r[N];
    static float af[N], bf[N], cf[N], rf[N];
    volatile double e = 0x1p-30;
    for (int i = 0; i < N; i++) {
        /* (1 + e)(1 - e) - 1 = -e^2 exactly, but the product rounds to 1 first: 0 unfused */
        a[i] = 1.0 + e * (1 + i % 3);
        b[i] = 1.0 - e * (1 + i % 3);
        c[i] = -1.0;
        af[i] = 1.0f + 0x1p-15f * (1 + i % 3);
        bf[i] = 1.0f - 0x1p-15f * (1 + i % 3);
        cf[i] = -1.0f;
    }
    axpy(a, b, c, r, N);
    axpyf(af, bf, cf, rf, N);
    int unfused = 1;
    for (int i = 0; i < N; i++) {
        printf("%016llx %08x\n", (unsigned long long)bits(r[i]), (unsigned)bitsf(rf[i]));
        unfused &= r[i] == 0.0 && rf[i] == 0.0f;
    }
    volatile double z = 0.0, nz = -0.0, nan = NAN, big = 3e10, two = 2.0;
    printf("%016llx %016llx %016llx %016llx\n", (unsigned long long)bits(fmin(z, nz)),
           (unsigned long long)bits(fmax(nz, z)), (unsigned long long)bits(sqrt(two)),
           (unsigned long long)bits(fmin(nan, two) + fmax(two, nan)));
    printf("%d %d %lld\n", (int)(float)big > 0, (int)(0.1 + 0.2 == 0.3),
           (long long)(big * big / 7.0));
    printf("fma: %s\n", unfused ? "unfused" : "FUSED");
    return 0;
}
