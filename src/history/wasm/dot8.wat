;; SIMD int8 dot products for `search --like` (src/history/dot8-wasm.ts): out[r] = sum_i q[i] * m[r*dim + i]
;; for r < rows, exact in i32 (|q|,|m| <= 127, dim <= 65536). dim is a multiple of 16. Each 16-byte step widens
;; both halves to i16 and uses i32x4.dot_i16x8_s, so 16 multiply-adds cost a few instructions.
;;
;; Rebuild (Debian package wabt): wat2wasm src/history/wasm/dot8.wat -o /tmp/d.wasm && base64 -w0 /tmp/d.wasm
;; into wasm/dot8-bytes.ts (test/history/dot8.test.ts checks they match).
(module
  (memory (export "memory") 1)
  (func (export "dots") (param $q i32) (param $m i32) (param $rows i32) (param $dim i32) (param $out i32)
    (local $r i32) (local $i i32) (local $mp i32) (local $acc v128) (local $qv v128) (local $mv v128)
    (local.set $mp (local.get $m))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (block $rowdone
          (loop $step
            (br_if $rowdone (i32.ge_u (local.get $i) (local.get $dim)))
            (local.set $qv (v128.load (i32.add (local.get $q) (local.get $i))))
            (local.set $mv (v128.load (i32.add (local.get $mp) (local.get $i))))
            (local.set $acc (i32x4.add (local.get $acc)
              (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $qv)) (i16x8.extend_low_i8x16_s (local.get $mv)))))
            (local.set $acc (i32x4.add (local.get $acc)
              (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $qv)) (i16x8.extend_high_i8x16_s (local.get $mv)))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $step)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2)))
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
            (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
        (local.set $mp (i32.add (local.get $mp) (local.get $dim)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))
)
