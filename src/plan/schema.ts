import { z } from 'zod';

const SubtaskOutputSchema = z.object({
  id: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9-]{0,39}$/,
      'use 1-40 lowercase letters, digits and dashes (it becomes part of a branch name)',
    )
    // Fanout's fallback agent uses this id.
    .refine((id) => id !== 'single-agent', 'the id "single-agent" is reserved; choose another'),
  title: z.string().trim().min(1).max(120),
  instructions: z.string().trim().min(1),
  writeScope: z.array(z.string()),
  readScope: z.array(z.string()).default([]),
  dependsOn: z.array(z.string()).default([]),
});

/** What the planner model must answer: the subtasks, in the order their PRs should merge. */
export const PlanOutputSchema = z.object({
  subtasks: z.array(SubtaskOutputSchema).min(1),
});

export type PlanOutput = z.infer<typeof PlanOutputSchema>;
