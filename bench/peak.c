// fp32 FMA peak of this machine: one thread per core, each running 12 independent
// AVX-512 FMA chains (enough to cover the FMA latency on every port), so the
// result is the throughput bound that "% of peak" figures in BENCHMARKS.md use.
// Built and run by bench/peak.ts: cc -O3 -march=native -pthread peak.c; prints GFLOP/s.
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12
static long iters = 200000000L / CHAINS;

static void *spin(void *out) {
  __m512 acc[CHAINS];
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
  for (long n = 0; n < iters; n++)
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  float s = 0;
  for (int i = 0; i < CHAINS; i++) s += _mm512_reduce_add_ps(acc[i]);
  *(float *)out = s; // keeps the chains live
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (threads < 1 || threads > 256) return 2;
  pthread_t t[256];
  float sink[256];
  double best = 0;
  for (int rep = 0; rep < 3; rep++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, spin, &sink[i]);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    double gflops = 2.0 * 16 * CHAINS * (double)iters * threads / s / 1e9;
    if (gflops > best) best = gflops;
  }
  printf("%.1f\n", best);
  return sink[0] == 12345.0f; // never: the sums are used
}
