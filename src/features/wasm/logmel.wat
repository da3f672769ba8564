;; SIMD (f64x2) kernel for earshot's log-mel frontend: the same float64 operations in the
;; same order as fft.ts + logmel.ts (so both paths give bit-identical mel energies), without
;; JS bounds checks and two lanes at a time in the FFT passes. JS applies Math.log.
;;
;; Rebuild (Debian package wabt): wat2wasm src/features/wasm/logmel.wat -o /tmp/l.wasm && base64 -w0 /tmp/l.wasm
;; into wasm/logmel-bytes.ts (test/features/wasm.test.ts checks they match).
;;
;; Memory: re[m] at 0, im[m] at 8192 (m <= 1024 complex points, DIF order), the same in
;; natural order at 16384 / 24576, tables from 32768 on,
;; laid out by the JS side, which passes their byte offsets to $configure.
(module
  (memory (export "memory") 1)
  (global $m (mut i32) (i32.const 0))
  (global $mBytes (mut i32) (i32.const 0))
  (global $pairs (mut i32) (i32.const 0))
  (global $win (mut i32) (i32.const 0))
  (global $tw (mut i32) (i32.const 0))
  (global $rev (mut i32) (i32.const 0))
  (global $spRe (mut i32) (i32.const 0))
  (global $spIm (mut i32) (i32.const 0))
  (global $segStart (mut i32) (i32.const 0))
  (global $segEnd (mut i32) (i32.const 0))
  (global $wRise (mut i32) (i32.const 0))
  (global $wFall (mut i32) (i32.const 0))
  (global $mag (mut i32) (i32.const 0))
  (global $rise (mut i32) (i32.const 0))
  (global $fall (mut i32) (i32.const 0))
  (global $bands (mut i32) (i32.const 0))
  (global $logOffset (mut f64) (f64.const 0))

  (func (export "configure")
    (param $m i32) (param $pairs i32) (param $win i32) (param $tw i32) (param $rev i32) (param $spRe i32) (param $spIm i32)
    (param $segStart i32) (param $segEnd i32) (param $wRise i32) (param $wFall i32) (param $mag i32) (param $rise i32)
    (param $fall i32) (param $bands i32) (param $logOffset f64)
    (global.set $m (local.get $m))
    (global.set $mBytes (i32.shl (local.get $m) (i32.const 3)))
    (global.set $pairs (local.get $pairs))
    (global.set $win (local.get $win))
    (global.set $tw (local.get $tw))
    (global.set $rev (local.get $rev))
    (global.set $spRe (local.get $spRe))
    (global.set $spIm (local.get $spIm))
    (global.set $segStart (local.get $segStart))
    (global.set $segEnd (local.get $segEnd))
    (global.set $wRise (local.get $wRise))
    (global.set $wFall (local.get $wFall))
    (global.set $mag (local.get $mag))
    (global.set $rise (local.get $rise))
    (global.set $fall (local.get $fall))
    (global.set $bands (local.get $bands))
    (global.set $logOffset (local.get $logOffset)))

  ;; re[j] = x[2j] w[2j], im[j] = x[2j+1] w[2j+1] for j < pairs (even), zero after.
  (func $load (param $x i32)
    (local $j i32) (local $jb i32) (local $p1 v128) (local $p2 v128)
    (local.set $jb (i32.const 0))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $j) (global.get $pairs)))
        (local.set $p1 (f64x2.mul
          (v128.load (i32.add (local.get $x) (i32.shl (local.get $jb) (i32.const 1))))
          (v128.load (i32.add (global.get $win) (i32.shl (local.get $jb) (i32.const 1))))))
        (local.set $p2 (f64x2.mul
          (v128.load offset=16 (i32.add (local.get $x) (i32.shl (local.get $jb) (i32.const 1))))
          (v128.load offset=16 (i32.add (global.get $win) (i32.shl (local.get $jb) (i32.const 1))))))
        (v128.store (local.get $jb)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $p1) (local.get $p2)))
        (v128.store offset=8192 (local.get $jb)
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $p1) (local.get $p2)))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (local.set $jb (i32.add (local.get $jb) (i32.const 16)))
        (br $l)))
    (block $zdone
      (loop $z
        (br_if $zdone (i32.ge_u (local.get $jb) (global.get $mBytes)))
        (v128.store (local.get $jb) (v128.const i64x2 0 0))
        (v128.store offset=8192 (local.get $jb) (v128.const i64x2 0 0))
        (local.set $jb (i32.add (local.get $jb) (i32.const 16)))
        (br $z))))

  ;; One fused pair of radix-2 DIF stages (radix4Pass in fft.ts), lanes = j, j + 1.
  ;; Twiddles at $tw: w1r[q] w1i[q] w2r[q] w2i[q] w3r[q] w3i[q].
  (func $pass (param $q i32) (param $tw i32)
    (local $qb i32) (local $s i32) (local $j i32) (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $t i32)
    (local $a0r v128) (local $a0i v128) (local $a1r v128) (local $a1i v128) (local $a2r v128) (local $a2i v128) (local $a3r v128) (local $a3i v128)
    (local $b0r v128) (local $b0i v128) (local $b1r v128) (local $b1i v128) (local $dr v128) (local $di v128) (local $er v128) (local $ei v128)
    (local $cr v128) (local $ci v128) (local $wr v128) (local $wi v128)
    (local.set $qb (i32.shl (local.get $q) (i32.const 3)))
    (local.set $s (i32.const 0))
    (loop $sl
      (local.set $j (i32.const 0))
      (loop $jl
        (local.set $p0 (i32.add (local.get $s) (local.get $j)))
        (local.set $p1 (i32.add (local.get $p0) (local.get $qb)))
        (local.set $p2 (i32.add (local.get $p1) (local.get $qb)))
        (local.set $p3 (i32.add (local.get $p2) (local.get $qb)))
        (local.set $a0r (v128.load (local.get $p0)))
        (local.set $a0i (v128.load offset=8192 (local.get $p0)))
        (local.set $a1r (v128.load (local.get $p1)))
        (local.set $a1i (v128.load offset=8192 (local.get $p1)))
        (local.set $a2r (v128.load (local.get $p2)))
        (local.set $a2i (v128.load offset=8192 (local.get $p2)))
        (local.set $a3r (v128.load (local.get $p3)))
        (local.set $a3i (v128.load offset=8192 (local.get $p3)))
        (local.set $b0r (f64x2.add (local.get $a0r) (local.get $a2r)))
        (local.set $b0i (f64x2.add (local.get $a0i) (local.get $a2i)))
        (local.set $b1r (f64x2.add (local.get $a1r) (local.get $a3r)))
        (local.set $b1i (f64x2.add (local.get $a1i) (local.get $a3i)))
        (local.set $dr (f64x2.sub (local.get $a0r) (local.get $a2r)))
        (local.set $di (f64x2.sub (local.get $a0i) (local.get $a2i)))
        (local.set $er (f64x2.sub (local.get $a1r) (local.get $a3r)))
        (local.set $ei (f64x2.sub (local.get $a1i) (local.get $a3i)))
        (v128.store (local.get $p0) (f64x2.add (local.get $b0r) (local.get $b1r)))
        (v128.store offset=8192 (local.get $p0) (f64x2.add (local.get $b0i) (local.get $b1i)))
        ;; c1 = (b0 - b1) * W2
        (local.set $t (i32.add (local.get $tw) (local.get $j)))
        (local.set $cr (f64x2.sub (local.get $b0r) (local.get $b1r)))
        (local.set $ci (f64x2.sub (local.get $b0i) (local.get $b1i)))
        (local.set $wr (v128.load (i32.add (local.get $t) (i32.shl (local.get $qb) (i32.const 1)))))
        (local.set $wi (v128.load (i32.add (local.get $t) (i32.mul (local.get $qb) (i32.const 3)))))
        (v128.store (local.get $p1) (f64x2.sub (f64x2.mul (local.get $cr) (local.get $wr)) (f64x2.mul (local.get $ci) (local.get $wi))))
        (v128.store offset=8192 (local.get $p1) (f64x2.add (f64x2.mul (local.get $cr) (local.get $wi)) (f64x2.mul (local.get $ci) (local.get $wr))))
        ;; c2 = (d - i e) W1
        (local.set $cr (f64x2.add (local.get $dr) (local.get $ei)))
        (local.set $ci (f64x2.sub (local.get $di) (local.get $er)))
        (local.set $wr (v128.load (local.get $t)))
        (local.set $wi (v128.load (i32.add (local.get $t) (local.get $qb))))
        (v128.store (local.get $p2) (f64x2.sub (f64x2.mul (local.get $cr) (local.get $wr)) (f64x2.mul (local.get $ci) (local.get $wi))))
        (v128.store offset=8192 (local.get $p2) (f64x2.add (f64x2.mul (local.get $cr) (local.get $wi)) (f64x2.mul (local.get $ci) (local.get $wr))))
        ;; c3 = (d + i e) W3
        (local.set $cr (f64x2.sub (local.get $dr) (local.get $ei)))
        (local.set $ci (f64x2.add (local.get $di) (local.get $er)))
        (local.set $wr (v128.load (i32.add (local.get $t) (i32.shl (local.get $qb) (i32.const 2)))))
        (local.set $wi (v128.load (i32.add (local.get $t) (i32.mul (local.get $qb) (i32.const 5)))))
        (v128.store (local.get $p3) (f64x2.sub (f64x2.mul (local.get $cr) (local.get $wr)) (f64x2.mul (local.get $ci) (local.get $wi))))
        (v128.store offset=8192 (local.get $p3) (f64x2.add (f64x2.mul (local.get $cr) (local.get $wi)) (f64x2.mul (local.get $ci) (local.get $wr))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $jl (i32.lt_u (local.get $j) (local.get $qb))))
      (local.set $s (i32.add (local.get $s) (i32.shl (local.get $qb) (i32.const 2))))
      (br_if $sl (i32.lt_u (local.get $s) (global.get $mBytes))))
  )

  ;; Last pass (q = 1): twiddle-free radix-4 butterflies on 4 consecutive points, results
  ;; scattered to natural order (nr/ni at 16384/24576): the value at DIF position p is
  ;; Z[rev[p]], and for p = 4b + i, rev[p] = rev[4b] + {0, m/2, m/4, 3m/4}[i].
  (func $last
    (local $p i32) (local $n i32) (local $h i32) (local $qq i32)
    (local $a0r f64) (local $a0i f64) (local $a1r f64) (local $a1i f64) (local $a2r f64) (local $a2i f64) (local $a3r f64) (local $a3i f64)
    (local $b0r f64) (local $b0i f64) (local $b1r f64) (local $b1i f64) (local $dr f64) (local $di f64) (local $er f64) (local $ei f64)
    (local.set $h (i32.shr_u (global.get $mBytes) (i32.const 1)))
    (local.set $qq (i32.shr_u (global.get $mBytes) (i32.const 2)))
    (loop $l
      (local.set $a0r (f64.load (local.get $p)))
      (local.set $a0i (f64.load offset=8192 (local.get $p)))
      (local.set $a1r (f64.load offset=8 (local.get $p)))
      (local.set $a1i (f64.load offset=8200 (local.get $p)))
      (local.set $a2r (f64.load offset=16 (local.get $p)))
      (local.set $a2i (f64.load offset=8208 (local.get $p)))
      (local.set $a3r (f64.load offset=24 (local.get $p)))
      (local.set $a3i (f64.load offset=8216 (local.get $p)))
      (local.set $b0r (f64.add (local.get $a0r) (local.get $a2r)))
      (local.set $b0i (f64.add (local.get $a0i) (local.get $a2i)))
      (local.set $b1r (f64.add (local.get $a1r) (local.get $a3r)))
      (local.set $b1i (f64.add (local.get $a1i) (local.get $a3i)))
      (local.set $dr (f64.sub (local.get $a0r) (local.get $a2r)))
      (local.set $di (f64.sub (local.get $a0i) (local.get $a2i)))
      (local.set $er (f64.sub (local.get $a1r) (local.get $a3r)))
      (local.set $ei (f64.sub (local.get $a1i) (local.get $a3i)))
      ;; natural byte offset of position p: rev[p / 8] * 8  ($p is a byte offset)
      (local.set $n (i32.shl (i32.load (i32.add (global.get $rev) (i32.shr_u (local.get $p) (i32.const 1)))) (i32.const 3)))
      (f64.store offset=16384 (local.get $n) (f64.add (local.get $b0r) (local.get $b1r)))
      (f64.store offset=24576 (local.get $n) (f64.add (local.get $b0i) (local.get $b1i)))
      (f64.store offset=16384 (i32.add (local.get $n) (local.get $h)) (f64.sub (local.get $b0r) (local.get $b1r)))
      (f64.store offset=24576 (i32.add (local.get $n) (local.get $h)) (f64.sub (local.get $b0i) (local.get $b1i)))
      (f64.store offset=16384 (i32.add (local.get $n) (local.get $qq)) (f64.add (local.get $dr) (local.get $ei)))
      (f64.store offset=24576 (i32.add (local.get $n) (local.get $qq)) (f64.sub (local.get $di) (local.get $er)))
      (f64.store offset=16384 (i32.add (local.get $n) (i32.add (local.get $h) (local.get $qq))) (f64.sub (local.get $dr) (local.get $ei)))
      (f64.store offset=24576 (i32.add (local.get $n) (i32.add (local.get $h) (local.get $qq))) (f64.add (local.get $di) (local.get $er)))
      (local.set $p (i32.add (local.get $p) (i32.const 32)))
      (br_if $l (i32.lt_u (local.get $p) (global.get $mBytes)))))

  ;; |X[k]| and |X[m-k]| from Z[k], Z[m-k] (magnitudes in fft.ts), bins k, k+1 in the two
  ;; lanes; the mirrored bins m-k, m-k-1 are loaded as one vector and lane-swapped.
  (func $split
    (local $kb i32) (local $mk i32) (local $hb i32) (local $mag i32)
    (local $a f64) (local $b f64)
    (local $va v128) (local $vb v128) (local $vc v128) (local $vd v128)
    (local $er v128) (local $ei v128) (local $or v128) (local $oi v128) (local $wr v128) (local $wi v128)
    (local $pr v128) (local $pi v128) (local $xr v128) (local $xi v128)
    (local.set $mag (global.get $mag))
    (local.set $a (f64.load offset=16384 (i32.const 0)))
    (local.set $b (f64.load offset=24576 (i32.const 0)))
    (f64.store (local.get $mag) (f64.abs (f64.add (local.get $a) (local.get $b))))
    (f64.store (i32.add (local.get $mag) (global.get $mBytes)) (f64.abs (f64.sub (local.get $a) (local.get $b))))
    (local.set $hb (i32.shr_u (global.get $mBytes) (i32.const 1)))
    (local.set $kb (i32.const 8))
    (loop $l
      ;; $mk = byte offset of bin m - k - 1
      (local.set $mk (i32.sub (i32.sub (global.get $mBytes) (local.get $kb)) (i32.const 8)))
      (local.set $va (v128.load offset=16384 (local.get $kb)))
      (local.set $vb (v128.load offset=24576 (local.get $kb)))
      (local.set $vc (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
        (v128.load offset=16384 (local.get $mk)) (v128.load offset=16384 (local.get $mk))))
      (local.set $vd (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
        (v128.load offset=24576 (local.get $mk)) (v128.load offset=24576 (local.get $mk))))
      (local.set $er (f64x2.mul (f64x2.splat (f64.const 0.5)) (f64x2.add (local.get $va) (local.get $vc))))
      (local.set $ei (f64x2.mul (f64x2.splat (f64.const 0.5)) (f64x2.sub (local.get $vb) (local.get $vd))))
      (local.set $or (f64x2.mul (f64x2.splat (f64.const 0.5)) (f64x2.add (local.get $vb) (local.get $vd))))
      (local.set $oi (f64x2.mul (f64x2.splat (f64.const -0.5)) (f64x2.sub (local.get $va) (local.get $vc))))
      (local.set $wr (v128.load (i32.add (global.get $spRe) (local.get $kb))))
      (local.set $wi (v128.load (i32.add (global.get $spIm) (local.get $kb))))
      (local.set $pr (f64x2.sub (f64x2.mul (local.get $wr) (local.get $or)) (f64x2.mul (local.get $wi) (local.get $oi))))
      (local.set $pi (f64x2.add (f64x2.mul (local.get $wr) (local.get $oi)) (f64x2.mul (local.get $wi) (local.get $or))))
      (local.set $xr (f64x2.sub (local.get $er) (local.get $pr)))
      (local.set $xi (f64x2.sub (local.get $ei) (local.get $pi)))
      (local.set $xr (f64x2.sqrt (f64x2.add (f64x2.mul (local.get $xr) (local.get $xr)) (f64x2.mul (local.get $xi) (local.get $xi)))))
      (v128.store (i32.add (local.get $mag) (local.get $mk))
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $xr) (local.get $xr)))
      ;; stored after the mirrored pair: at k = m/2 both name the same bin, and |E + P| wins as in fft.ts
      (local.set $xr (f64x2.add (local.get $er) (local.get $pr)))
      (local.set $xi (f64x2.add (local.get $ei) (local.get $pi)))
      (v128.store (i32.add (local.get $mag) (local.get $kb))
        (f64x2.sqrt (f64x2.add (f64x2.mul (local.get $xr) (local.get $xr)) (f64x2.mul (local.get $xi) (local.get $xi)))))
      (local.set $kb (i32.add (local.get $kb) (i32.const 16)))
      (br_if $l (i32.le_u (local.get $kb) (local.get $hb)))))

  ;; Segment sums (computeFrames in logmel.ts); writes rise[b] + fall[b+1] + logOffset.
  (func $mel (param $out i32)
    (local $s i32) (local $k i32) (local $e i32) (local $b i32) (local $r f64) (local $fl f64) (local $v f64)
    (loop $sl
      (local.set $r (f64.const 0))
      (local.set $fl (f64.const 0))
      (local.set $k (i32.load (i32.add (global.get $segStart) (i32.shl (local.get $s) (i32.const 2)))))
      (local.set $e (i32.load (i32.add (global.get $segEnd) (i32.shl (local.get $s) (i32.const 2)))))
      (block $kd
        (loop $kl
          (br_if $kd (i32.ge_u (local.get $k) (local.get $e)))
          (local.set $v (f64.load (i32.add (global.get $mag) (i32.shl (local.get $k) (i32.const 3)))))
          (local.set $r (f64.add (local.get $r)
            (f64.mul (f64.load (i32.add (global.get $wRise) (i32.shl (local.get $k) (i32.const 3)))) (local.get $v))))
          (local.set $fl (f64.add (local.get $fl)
            (f64.mul (f64.load (i32.add (global.get $wFall) (i32.shl (local.get $k) (i32.const 3)))) (local.get $v))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $kl)))
      (f64.store (i32.add (global.get $rise) (i32.shl (local.get $s) (i32.const 3))) (local.get $r))
      (f64.store (i32.add (global.get $fall) (i32.shl (local.get $s) (i32.const 3))) (local.get $fl))
      (local.set $s (i32.add (local.get $s) (i32.const 1)))
      (br_if $sl (i32.le_u (local.get $s) (global.get $bands))))
    (loop $bl
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $b) (i32.const 3)))
        (f64.add
          (f64.add
            (f64.load (i32.add (global.get $rise) (i32.shl (local.get $b) (i32.const 3))))
            (f64.load offset=8 (i32.add (global.get $fall) (i32.shl (local.get $b) (i32.const 3)))))
          (global.get $logOffset)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $bl (i32.lt_u (local.get $b) (global.get $bands)))))

  ;; count frames starting at byte $x, $hop bytes apart; mel energies (+ logOffset) to $out.
  (func (export "frames") (param $x i32) (param $count i32) (param $hop i32) (param $out i32)
    (local $f i32) (local $q i32) (local $tw i32)
    (block $done
      (loop $fl
        (br_if $done (i32.ge_u (local.get $f) (local.get $count)))
        (call $load (i32.add (local.get $x) (i32.mul (local.get $f) (local.get $hop))))
        (local.set $q (i32.shr_u (global.get $m) (i32.const 2)))
        (local.set $tw (global.get $tw))
        (loop $pl
          (call $pass (local.get $q) (local.get $tw))
          (local.set $tw (i32.add (local.get $tw) (i32.mul (local.get $q) (i32.const 48))))
          (local.set $q (i32.shr_u (local.get $q) (i32.const 2)))
          (br_if $pl (i32.ge_u (local.get $q) (i32.const 4))))
        (call $last)
        (call $split)
        (call $mel (i32.add (local.get $out) (i32.mul (local.get $f) (i32.shl (global.get $bands) (i32.const 3)))))
        (local.set $f (i32.add (local.get $f) (i32.const 1)))
        (br $fl))))
)
