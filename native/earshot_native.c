// Thin N-API bridge to OpenBLAS sgemm for classifier training/inference.
// Everything else (elementwise kernels) stays in TypeScript; the matmuls are
// where tfjs-wasm loses 100x, so this is the only native piece.
#include <node_api.h>
#include <cblas.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, "EARSHOT_NATIVE", "N-API call failed: " #call); \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

static bool get_f32(napi_env env, napi_value v, float **data, size_t *len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  void *ptr = NULL;
  napi_value buf;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &buf, &off) != napi_ok) return false;
  if (type != napi_float32_array) return false;
  *data = (float *)ptr;
  return true;
}

static bool in_bounds(size_t len, bool trans_rows_cols_swapped, int64_t rows, int64_t cols, int64_t ld) {
  // Row-major [rows, cols] (or its transpose stored as [cols, rows]) with leading dim ld.
  int64_t r = trans_rows_cols_swapped ? cols : rows;
  int64_t c = trans_rows_cols_swapped ? rows : cols;
  if (r == 0 || c == 0) return true;
  if (ld < c) return false;
  return (uint64_t)((r - 1) * ld + c) <= (uint64_t)len;
}

// sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc): C = alpha*op(A)op(B) + beta*C, row-major.
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 13) {
    napi_throw_type_error(env, "EARSHOT_NATIVE", "sgemm expects 13 arguments");
    return NULL;
  }
  bool ta, tb;
  int64_t m, n, k, lda, ldb, ldc;
  double alpha, beta;
  CHECK(napi_get_value_bool(env, argv[0], &ta));
  CHECK(napi_get_value_bool(env, argv[1], &tb));
  CHECK(napi_get_value_int64(env, argv[2], &m));
  CHECK(napi_get_value_int64(env, argv[3], &n));
  CHECK(napi_get_value_int64(env, argv[4], &k));
  CHECK(napi_get_value_double(env, argv[5], &alpha));
  CHECK(napi_get_value_int64(env, argv[7], &lda));
  CHECK(napi_get_value_int64(env, argv[9], &ldb));
  CHECK(napi_get_value_double(env, argv[10], &beta));
  CHECK(napi_get_value_int64(env, argv[12], &ldc));
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!get_f32(env, argv[6], &a, &la) || !get_f32(env, argv[8], &b, &lb) || !get_f32(env, argv[11], &c, &lc)) {
    napi_throw_type_error(env, "EARSHOT_NATIVE", "sgemm operands must be Float32Arrays");
    return NULL;
  }
  if (m < 0 || n < 0 || k < 0 || !in_bounds(la, ta, m, k, lda) || !in_bounds(lb, tb, k, n, ldb) || !in_bounds(lc, false, m, n, ldc)) {
    napi_throw_range_error(env, "EARSHOT_NATIVE", "sgemm operand shapes exceed their arrays");
    return NULL;
  }
  if (m == 0 || n == 0) return NULL;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
              (float)alpha, a, (int)lda, b, (int)ldb, (float)beta, c, (int)ldc);
  return NULL;
}


// ---- fused elementwise kernels (mirror src/classify/layers.ts; double math like the TS path) ----

static bool get_u32(napi_env env, napi_value v, uint32_t **data, size_t *len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  void *ptr = NULL;
  napi_value buf;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &buf, &off) != napi_ok) return false;
  if (type != napi_uint32_array) return false;
  *data = (uint32_t *)ptr;
  return true;
}

static inline uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

// xoshiro128** step, identical to src/train/rng.ts so both paths draw the same masks.
static inline uint32_t xoshiro_next(uint32_t *s) {
  uint32_t result = rotl32(s[1] * 5, 7) * 9;
  uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl32(s[3], 11);
  return result;
}

#define ARG_F32(i, name, need)                                                             \
  float *name;                                                                             \
  size_t name##_len;                                                                       \
  if (!get_f32(env, argv[i], &name, &name##_len) || name##_len < (size_t)(need)) {        \
    napi_throw_type_error(env, "EARSHOT_NATIVE", "argument " #name " must be a Float32Array of sufficient length"); \
    return NULL;                                                                           \
  }

// bnForward(h, rows, dim, gamma, beta, movingMean, movingVar, training, dropout, rngState|null, momentum, eps, xhat, invStd, out)
static napi_value BnForward(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 15) {
    napi_throw_type_error(env, "EARSHOT_NATIVE", "bnForward expects 15 arguments");
    return NULL;
  }
  int64_t rows, dim;
  bool training;
  double dropout, momentum, eps;
  CHECK(napi_get_value_int64(env, argv[1], &rows));
  CHECK(napi_get_value_int64(env, argv[2], &dim));
  CHECK(napi_get_value_bool(env, argv[7], &training));
  CHECK(napi_get_value_double(env, argv[8], &dropout));
  CHECK(napi_get_value_double(env, argv[10], &momentum));
  CHECK(napi_get_value_double(env, argv[11], &eps));
  size_t n = (size_t)rows * (size_t)dim;
  ARG_F32(0, h, n);
  ARG_F32(3, gamma, dim);
  ARG_F32(4, beta, dim);
  ARG_F32(5, mmean, dim);
  ARG_F32(6, mvar, dim);
  ARG_F32(12, xhat, n);
  ARG_F32(13, invstd, dim);
  ARG_F32(14, out, n);
  bool drop = training && dropout > 0;
  uint32_t *rs = NULL;
  size_t rslen = 0;
  if (drop && (!get_u32(env, argv[9], &rs, &rslen) || rslen != 4)) {
    napi_throw_type_error(env, "EARSHOT_NATIVE", "dropout needs a Uint32Array(4) xoshiro state");
    return NULL;
  }
  double *mean = calloc((size_t)dim, sizeof(double));
  double *var = calloc((size_t)dim, sizeof(double));
  float *m32 = malloc((size_t)dim * sizeof(float));
  if (!mean || !var || !m32) {
    free(mean); free(var); free(m32);
    napi_throw_error(env, "EARSHOT_NATIVE", "out of memory");
    return NULL;
  }
  if (training) {
    for (int64_t r = 0; r < rows; r++) {
      const float *hr = h + r * dim;
      for (int64_t j = 0; j < dim; j++) mean[j] += hr[j];
    }
    for (int64_t j = 0; j < dim; j++) mean[j] /= (double)rows;
    for (int64_t r = 0; r < rows; r++) {
      const float *hr = h + r * dim;
      for (int64_t j = 0; j < dim; j++) {
        double d = (double)hr[j] - mean[j];
        var[j] += d * d;
      }
    }
    double corr = (double)rows / ((double)rows - (1.0 + eps));
    for (int64_t j = 0; j < dim; j++) {
      double v = var[j] / (double)rows;
      invstd[j] = (float)(1.0 / sqrt(v + eps));
      mmean[j] = (float)((double)mmean[j] * momentum + mean[j] * (1.0 - momentum));
      mvar[j] = (float)((double)mvar[j] * momentum + v * corr * (1.0 - momentum));
    }
  } else {
    for (int64_t j = 0; j < dim; j++) {
      mean[j] = mmean[j];
      invstd[j] = (float)(1.0 / sqrt((double)mvar[j] + eps));
    }
  }
  for (int64_t j = 0; j < dim; j++) m32[j] = (float)mean[j];
  double keep_scale = drop ? 1.0 / (1.0 - dropout) : 1.0;
  for (int64_t r = 0; r < rows; r++) {
    const float *hr = h + r * dim;
    float *xr = xhat + r * dim;
    float *orow = out + r * dim;
    for (int64_t j = 0; j < dim; j++) {
      double xh = ((double)hr[j] - (double)m32[j]) * (double)invstd[j];
      xr[j] = (float)xh;
      double y = (double)gamma[j] * xh + (double)beta[j];
      bool keep = true;
      if (drop) keep = (double)xoshiro_next(rs) / 4294967296.0 >= dropout;
      orow[j] = (y > 0 && keep) ? (float)(y * keep_scale) : 0.0f;
    }
  }
  free(mean); free(var); free(m32);
  return NULL;
}

// bnBackward(out, dout, xhat, invStd, gamma, keepScale, rows, dim, dgamma, dbeta, dh)
static napi_value BnBackward(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) {
    napi_throw_type_error(env, "EARSHOT_NATIVE", "bnBackward expects 11 arguments");
    return NULL;
  }
  double keep_scale;
  int64_t rows, dim;
  CHECK(napi_get_value_double(env, argv[5], &keep_scale));
  CHECK(napi_get_value_int64(env, argv[6], &rows));
  CHECK(napi_get_value_int64(env, argv[7], &dim));
  size_t n = (size_t)rows * (size_t)dim;
  ARG_F32(0, out, n);
  ARG_F32(1, dout, n);
  ARG_F32(2, xhat, n);
  ARG_F32(3, invstd, dim);
  ARG_F32(4, gamma, dim);
  ARG_F32(8, dgamma, dim);
  ARG_F32(9, dbeta, dim);
  ARG_F32(10, dh, n);
  double *s1 = calloc((size_t)dim, sizeof(double));
  double *s2 = calloc((size_t)dim, sizeof(double));
  float *k1 = malloc((size_t)dim * sizeof(float));
  float *m1 = malloc((size_t)dim * sizeof(float));
  float *m2 = malloc((size_t)dim * sizeof(float));
  if (!s1 || !s2 || !k1 || !m1 || !m2) {
    free(s1); free(s2); free(k1); free(m1); free(m2);
    napi_throw_error(env, "EARSHOT_NATIVE", "out of memory");
    return NULL;
  }
  for (int64_t r = 0; r < rows; r++) {
    const float *o = out + r * dim, *d = dout + r * dim, *x = xhat + r * dim;
    float *g = dh + r * dim;
    for (int64_t j = 0; j < dim; j++) {
      float gv = o[j] > 0 ? (float)((double)d[j] * keep_scale) : 0.0f;
      g[j] = gv;
      s1[j] += gv;
      s2[j] += (double)gv * (double)x[j];
    }
  }
  for (int64_t j = 0; j < dim; j++) {
    dgamma[j] = (float)((double)dgamma[j] + s2[j]);
    dbeta[j] = (float)((double)dbeta[j] + s1[j]);
    k1[j] = (float)((double)gamma[j] * (double)invstd[j]);
    m1[j] = (float)(s1[j] / (double)rows);
    m2[j] = (float)(s2[j] / (double)rows);
  }
  for (int64_t r = 0; r < rows; r++) {
    const float *x = xhat + r * dim;
    float *g = dh + r * dim;
    for (int64_t j = 0; j < dim; j++) g[j] = (float)((double)k1[j] * ((double)g[j] - (double)m1[j] - (double)x[j] * (double)m2[j]));
  }
  free(s1); free(s2); free(k1); free(m1); free(m2);
  return NULL;
}

// sigmoid(z) in place
static napi_value Sigmoid(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  ARG_F32(0, z, 0);
  for (size_t i = 0; i < z_len; i++) z[i] = 1.0f / (1.0f + expf(-z[i]));
  return NULL;
}

// softmaxRows(z, rows, dim) in place
static napi_value SoftmaxRows(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t rows, dim;
  CHECK(napi_get_value_int64(env, argv[1], &rows));
  CHECK(napi_get_value_int64(env, argv[2], &dim));
  ARG_F32(0, z, (size_t)rows * (size_t)dim);
  for (int64_t r = 0; r < rows; r++) {
    float *zr = z + r * dim;
    float mx = -INFINITY;
    for (int64_t j = 0; j < dim; j++) if (zr[j] > mx) mx = zr[j];
    float s = 0;
    for (int64_t j = 0; j < dim; j++) {
      float e = expf(zr[j] - mx);
      zr[j] = e;
      s += e;
    }
    float inv = 1.0f / s;
    for (int64_t j = 0; j < dim; j++) zr[j] *= inv;
  }
  return NULL;
}

static napi_value Threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"threads", NULL, Threads, NULL, NULL, NULL, napi_default, NULL},
      {"bnForward", NULL, BnForward, NULL, NULL, NULL, napi_default, NULL},
      {"bnBackward", NULL, BnBackward, NULL, NULL, NULL, napi_default, NULL},
      {"sigmoid", NULL, Sigmoid, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxRows", NULL, SoftmaxRows, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
