;; SIMD (f64x2) polyphase kernel for earshot's resampler (resample-wasm.ts): every output
;; sample is one dot product of a precomputed phase row with a contiguous input window.
;; The summation order is fixed by the tap index alone (four f64x2 accumulators over taps
;; 8j..8j+7, then (a0 + a1) + (a2 + a3), then lane 0 + lane 1), never by alignment or by
;; which call computes the sample, so streaming equals batch bit for bit.
;;
;; Rebuild (Debian package wabt): wat2wasm src/features/wasm/resample.wat -o /tmp/r.wasm && base64 -w0 /tmp/r.wasm
;; into wasm/resample-bytes.ts (test/features/resample-wasm.test.ts checks they match).
;;
;; Memory layout is the JS side's: phases rows of `taps` f64 (taps a multiple of 8) at $coef,
;; one i32 input advance per phase at $adv; it passes their byte offsets to $configure.
(module
  (memory (export "memory") 1)
  (global $coef (mut i32) (i32.const 0))
  (global $adv (mut i32) (i32.const 0))
  (global $phases (mut i32) (i32.const 0))
  (global $rowBytes (mut i32) (i32.const 0))

  (func (export "configure") (param $coef i32) (param $adv i32) (param $phases i32) (param $taps i32)
    (global.set $coef (local.get $coef))
    (global.set $adv (local.get $adv))
    (global.set $phases (local.get $phases))
    (global.set $rowBytes (i32.shl (local.get $taps) (i32.const 3))))

  ;; out[i] = sum_j row(phase_i)[j] * x[s_i + j] for i < count, where phase_0 = $phase,
  ;; s_0 = 0 (x points at output 0's window start) and each output advances the window by
  ;; adv[phase] samples and the phase by one (mod phases).
  (func (export "run") (param $x i32) (param $count i32) (param $phase i32) (param $out i32)
    (local $i i32) (local $c i32) (local $xp i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $c (i32.add (global.get $coef) (i32.mul (local.get $phase) (global.get $rowBytes))))
        (local.set $end (i32.add (local.get $c) (global.get $rowBytes)))
        (local.set $xp (local.get $x))
        (local.set $a0 (v128.const i64x2 0 0))
        (local.set $a1 (v128.const i64x2 0 0))
        (local.set $a2 (v128.const i64x2 0 0))
        (local.set $a3 (v128.const i64x2 0 0))
        (block $taps
          (loop $inner
            (br_if $taps (i32.ge_u (local.get $c) (local.get $end)))
            (local.set $a0 (f64x2.add (local.get $a0)
              (f64x2.mul (v128.load (local.get $c)) (v128.load (local.get $xp)))))
            (local.set $a1 (f64x2.add (local.get $a1)
              (f64x2.mul (v128.load offset=16 (local.get $c)) (v128.load offset=16 (local.get $xp)))))
            (local.set $a2 (f64x2.add (local.get $a2)
              (f64x2.mul (v128.load offset=32 (local.get $c)) (v128.load offset=32 (local.get $xp)))))
            (local.set $a3 (f64x2.add (local.get $a3)
              (f64x2.mul (v128.load offset=48 (local.get $c)) (v128.load offset=48 (local.get $xp)))))
            (local.set $c (i32.add (local.get $c) (i32.const 64)))
            (local.set $xp (i32.add (local.get $xp) (i32.const 64)))
            (br $inner)))
        (local.set $a0 (f64x2.add (f64x2.add (local.get $a0) (local.get $a1)) (f64x2.add (local.get $a2) (local.get $a3))))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3)))
          (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0))))
        (local.set $x (i32.add (local.get $x)
          (i32.shl (i32.load (i32.add (global.get $adv) (i32.shl (local.get $phase) (i32.const 2)))) (i32.const 3))))
        (local.set $phase (i32.add (local.get $phase) (i32.const 1)))
        (if (i32.eq (local.get $phase) (global.get $phases)) (then (local.set $phase (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer))))
)
