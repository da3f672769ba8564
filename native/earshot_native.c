// Thin N-API bridge to OpenBLAS sgemm for classifier training/inference.
// Everything else (elementwise kernels) stays in TypeScript; the matmuls are
// where tfjs-wasm loses 100x, so this is the only native piece.
#include <node_api.h>
#include <cblas.h>
#include <stdbool.h>
#include <stdint.h>

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
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
