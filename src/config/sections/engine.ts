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
     * ONNX engine keeps its activation buffers between calls (ORT's arena) instead of allocating
     * fresh ones every call. Measured on VGGish: same speed, steadier memory (a batch-32 job holds
     * 446 MB; without the arena 449-481 MB, as the C allocator keeps freed buffers unevenly).
     * Before the engine split graphs into trunk and head it was worth +10% at batch 32.
     */
    memoryArena: z.boolean().default(true),
  })
  .strict();

export type EngineConfig = z.infer<typeof engineSchema>;
