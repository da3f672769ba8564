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
    /**
     * ONNX engine keeps its activation buffers between calls (ORT's arena) instead of allocating
     * fresh ones every call. Measured on VGGish at batch 32: same speed, steadier memory (436 MB
     * throughout; without the arena 433 MB between calls but 457-466 MB at peak). Before the
     * engine split graphs into trunk and head it was also worth +10% at batch 32.
     */
    memoryArena: z.boolean().default(true),
  })
  .strict();

export type EngineConfig = z.infer<typeof engineSchema>;
