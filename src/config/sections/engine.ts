import { z } from 'zod';

export const engineSchema = z
  .object({
    /** auto picks the fastest engine present (onnx, then tfjs). */
    kind: z.enum(['auto', 'tfjs', 'onnx']).default('auto'),
    /** TF.js backend preference when kind is tfjs (auto: tfjs-node-gpu > tfjs-node > wasm > cpu). */
    tfjsBackend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
    /** Intra-op threads; 0 = number of cores. */
    threads: z.number().int().nonnegative().default(0),
    /** Patches per inference call in batch jobs. */
    batchSize: z.number().int().positive().default(32),
    /**
     * ONNX engine keeps its activation buffers between calls instead of returning them to the OS
     * and page-faulting fresh ones on every call: +10-12% VGGish patches/s at batch 32. It holds the
     * largest batch's activations: ~4 MB at batch 1 (the daemon tags patch by patch), ~85 MB for
     * a batch-32 job. false: memory-lean.
     */
    memoryArena: z.boolean().default(true),
  })
  .strict();

export type EngineConfig = z.infer<typeof engineSchema>;
