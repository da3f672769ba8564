import { z } from 'zod';

/** Where model directories live. Empty string = not installed. */
export const modelsSchema = z
  .object({
    /** Which tagger `run`/`tag` use: auto = vggish+classifier when both are installed, else yamnet. */
    tagger: z.enum(['auto', 'yamnet', 'vggish', 'efficientat']).default('auto'),
    /** Imported with `earshot models import yamnet`; relative paths resolve from the working directory. */
    yamnetDir: z.string().default('models/yamnet'),
    vggishDir: z.string().default('models/vggish'),
    classifierDir: z.string().default('models/classifier'),
    /** EfficientAT model directory (`earshot models import efficientat`). */
    efficientatDir: z.string().default('models/efficientat-mn04'),
    /**
     * Context-window taggers (EfficientAT, trained on 10 s clips) score the last
     * contextWindowSeconds of audio every contextHopSeconds and attribute the scores to that hop.
     */
    contextWindowSeconds: z.number().positive().max(60).default(10),
    contextHopSeconds: z.number().positive().max(60).default(1),
    /** AudioSet ontology.json, for subscribing to a parent label's children; '' = the copy shipped with earshot, 'none' = flat labels only. */
    ontologyPath: z.string().default(''),
    /**
     * Custom model directories (`earshot learn --out`): their heads run beside the tagger on
     * the same embeddings, adding their labels to every source whose tagger is their base.
     */
    custom: z.array(z.string().min(1)).default([]),
    /** Base URL for `earshot models fetch`. */
    fetchBaseUrl: z.string().default('https://storage.googleapis.com/audioset'),
  })
  .strict();

export type ModelsConfig = z.infer<typeof modelsSchema>;
