import { z } from 'zod';

export const engineSchema = z
  .object({
    /** auto picks the fastest engine present (onnx, then tfjs). */
    kind: z.enum(['auto', 'tfjs', 'onnx']).default('auto'),
    /** TF.js backend preference when kind is tfjs (auto: tfjs-node-gpu > tfjs-node > wasm > cpu). */
    tfjsBackend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
    /** Intra-op threads; 0 = number of cores. */
    threads: z.number().int().min(0).max(256).default(0),
    /** Patches per inference call in batch jobs. */
    batchSize: z.number().int().min(1).max(4096).default(32),
    /** ONNX engine keeps its activation buffers between calls (ORT's arena): steadier memory at the same speed (BENCHMARKS.md). */
    memoryArena: z.boolean().default(true),
  })
  .strict();

export type EngineConfig = z.infer<typeof engineSchema>;
