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
     * ONNX engine keeps its activation buffers between calls. Faster batches (no page faults on
     * fresh buffers: +10% patches/s for VGGish at batch 32) at the cost of holding the largest
     * batch's activations resident (~85 MB for VGGish at batch 32). Off: memory-lean.
     */
    memoryArena: z.boolean().default(false),
  })
  .strict();

export type EngineConfig = z.infer<typeof engineSchema>;
