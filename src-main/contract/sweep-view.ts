import { z } from 'zod';
import { TrainConfigSchema } from './config';
import { RunIdSchema } from './messages';
import { ChoiceValueSchema, SWEEP_STATUSES, SweepSpecSchema, TRIAL_STATUSES } from './sweep';

/**
 * What the Sweep panel shows of a sweep: its journal (engine/sweeps/journal.ts) reduced to what
 * a person reads — each trial's best score so far instead of every epoch's, times in seconds —
 * plus what the engine computes from it (the rung schedule, the importance ranking, the best
 * trial), so the renderer draws and never recomputes the engine's numbers.
 */

/** Finished trials the importance ranking needs before it means more than noise. */
export const MIN_IMPORTANCE_TRIALS = 4;

export const TrialViewSchema = z
  .object({
    /** The trial's number, from 1 in the order trials were proposed. */
    trial: z.number().int().min(1),
    /** Its current run, null until it first starts. */
    runId: RunIdSchema.nullable(),
    /** The searched hyper-parameters' values. */
    point: z.record(z.string(), ChoiceValueSchema),
    /** The whole config it trains with: what "train this configuration longer" starts from. */
    config: TrainConfigSchema,
    status: z.enum(TRIAL_STATUSES),
    epochsDone: z.number().int().min(0),
    /** Best validation accuracy over its epochs so far (the epoch its best checkpoint holds). */
    valAccuracy: z.number().min(0).max(1).nullable(),
    /** The epoch that scored it, whose checkpoint "Restore" uses (the first of equal scores). */
    bestEpoch: z.number().int().min(1).nullable(),
    /** Wall time of its current attempt: to its end, or to when the view was made if it runs. */
    seconds: z.number().min(0),
    /** Why it was pruned or why it failed, in the engine's words. */
    reason: z.string().nullable(),
  })
  .strict();
export type TrialView = z.infer<typeof TrialViewSchema>;

export const RungViewSchema = z
  .object({
    rung: z.number().int().min(1),
    /** The epoch whose validation accuracy is judged. */
    epoch: z.number().int().min(1),
    /** Share of the trials judged at the rung that go on (1/η). */
    keep: z.number().gt(0).max(1),
  })
  .strict();
export type RungView = z.infer<typeof RungViewSchema>;

export const ParamImportanceSchema = z
  .object({ param: z.string(), importance: z.number().min(0).max(1) })
  .strict();

export const SweepViewSchema = z
  .object({
    id: RunIdSchema,
    spec: SweepSpecSchema,
    status: z.enum(SWEEP_STATUSES),
    createdAt: z.string(),
    /** ASHA's rungs; empty without early stopping. */
    rungs: z.array(RungViewSchema),
    /** Epochs a trial trains when nothing prunes it (the largest, if epochs is searched). */
    maxEpochs: z.number().int().min(1),
    trials: z.array(TrialViewSchema),
    /** Most important first; null until MIN_IMPORTANCE_TRIALS trials have finished. */
    importance: z.array(ParamImportanceSchema).nullable(),
    /** The finished trial with the best validation accuracy. */
    bestTrial: z.number().int().min(1).nullable(),
  })
  .strict();
export type SweepView = z.infer<typeof SweepViewSchema>;
